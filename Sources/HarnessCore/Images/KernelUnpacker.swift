import Foundation

/// Unpacks a self-decompressing kernel image into the kernel inside it, for a profile that boots
/// the uncompressed kernel (`ArchProfile.uncompressedBoot`): under TCG the guest spends seconds
/// decompressing its own kernel, which the host does in a fraction of one, once per image.
///
/// The compressed payload is found the way the kernel's own scripts/extract-vmlinux finds it:
/// every offset where a compressor's magic appears is tried, and the first output the boot can
/// use wins: an ELF carrying the note its entry needs, or a raw kernel of exactly the size the
/// image's header table states, which is then wrapped in a uImage header that tells QEMU where
/// in RAM it must sit. The result is cached by the image's digest, written under a temporary name
/// and renamed, so a half-written kernel is never booted.
public struct KernelUnpacker: Sendable {
    public var cacheRoot: URL

    public init(cacheRoot: URL) { self.cacheRoot = cacheRoot }

    /// A compressor: its stream magic and the host tool that decompresses from stdin.
    struct Compressor {
        var name: String
        var magic: [UInt8]
        var tool: String
        var arguments: [String]
    }

    static let compressors = [
        Compressor(name: "xz", magic: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], tool: "xz", arguments: ["-dc", "--single-stream"]),
        Compressor(name: "zstd", magic: [0x28, 0xB5, 0x2F, 0xFD], tool: "zstd", arguments: ["-dcq"]),
        Compressor(name: "gzip", magic: [0x1F, 0x8B, 0x08], tool: "gzip", arguments: ["-dc"]),
    ]

    /// What one try at a payload came to.
    enum Outcome {
        case unpacked(String)
        case notUnpacked(String)
    }

    /// The uncompressed kernel of `image` in the form `boot` asks for, or nil with the reason when
    /// it has none the boot can use (the caller then boots the compressed image, and the report
    /// says which one booted).
    public func unpack(_ image: URL, as boot: ArchProfile.UncompressedBoot) throws -> (URL?, String) {
        if let note = boot.elfNote { return try unpack(image, requiring: note) }
        if let raw = boot.rawImage { return try unpack(image, placedBy: raw) }
        return (nil, "the profile's uncompressedBoot names neither an elfNote nor a rawImage")
    }

    /// The ELF inside `image` that carries `note`.
    public func unpack(_ image: URL, requiring note: ArchProfile.UncompressedBoot.ElfNote) throws -> (URL?, String) {
        try unpackOnce(image, suffix: "elf") { data, partial in
            var tried: [String] = []
            for (offset, compressor) in Self.candidates(in: data) {
                guard try decompress(image, at: offset, with: compressor, to: partial, tried: &tried) else { continue }
                if ElfNotes.contains(file: partial, name: note.name, type: note.type) {
                    return .unpacked("unpacked \(compressor.name) at byte \(offset)")
                }
                tried.append("\(compressor.name) at \(offset)")
            }
            return .notUnpacked("no payload of \(image.lastPathComponent) is an ELF with note \(note.name)/\(note.type)"
                                + Self.listed(tried))
        }
    }

    /// The raw kernel inside `image`, wrapped so that QEMU loads it at `raw.memoryBase` plus the
    /// text offset the image's header table states, where the image's own decompressor puts it.
    public func unpack(_ image: URL, placedBy raw: ArchProfile.UncompressedBoot.RawImage) throws -> (URL?, String) {
        guard let base = raw.memoryBaseAddress else {
            return (nil, "the profile's rawImage.memoryBase \(raw.memoryBase) is not a hex address")
        }
        return try unpackOnce(image, suffix: "uimage") { data, partial in
            guard let table = LoaderTable(data) else {
                return .notUnpacked("\(image.lastPathComponent) has no header table that states its payload's size and text offset")
            }
            let (load, overflow) = base.addingReportingOverflow(table.textOffset)
            guard !overflow, load <= UInt64(UInt32.max) else {
                return .notUnpacked("\(image.lastPathComponent)'s kernel would sit above 4 GiB, which a uImage header cannot say")
            }
            let payload = partial.appendingPathExtension("payload")
            defer { try? FileManager.default.removeItem(at: payload) }
            var tried: [String] = []
            for (offset, compressor) in Self.candidates(in: data) where offset < table.payloadSizeOffset {
                guard try decompress(image, at: offset, with: compressor, to: payload, tried: &tried) else { continue }
                // The size first, from the file system: a wrong candidate is not read back.
                let size = (try? FileManager.default.attributesOfItem(atPath: payload.path)[.size] as? Int) ?? -1
                guard size == table.payloadSize else {
                    tried.append("\(compressor.name) at \(offset): \(size) bytes")
                    continue
                }
                let kernel = try Data(contentsOf: payload)
                try (UImage.header(for: kernel, loadAddress: UInt32(load), architecture: raw.uImageArchitecture,
                                   name: "dma-harness unpacked kernel") + kernel).write(to: partial)
                return .unpacked("unpacked \(compressor.name) at byte \(offset), loaded at 0x\(String(load, radix: 16))")
            }
            return .notUnpacked("no payload of \(image.lastPathComponent) decompresses to the \(table.payloadSize) bytes its header table states"
                                + Self.listed(tried))
        }
    }

    /// The cache, lock and rename every form shares: `make` writes the kernel to the partial file
    /// it is given, which becomes `<digest>.<suffix>` only when `make` says it unpacked.
    private func unpackOnce(_ image: URL, suffix: String, _ make: (Data, URL) throws -> Outcome) throws -> (URL?, String) {
        let folder = cacheRoot.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let digest = try FileDigest.sha256(of: image)
        let unpacked = folder.appendingPathComponent("\(digest).\(suffix)")
        if FileManager.default.fileExists(atPath: unpacked.path) { return (unpacked, "cached") }
        return try FileLock.withLock(at: folder.appendingPathComponent("\(digest).lock")) {
            if FileManager.default.fileExists(atPath: unpacked.path) { return (unpacked, "cached") }
            let data = try Data(contentsOf: image, options: .alwaysMapped)
            let partial = folder.appendingPathComponent("\(digest).partial-\(getpid())")
            defer { try? FileManager.default.removeItem(at: partial) }
            switch try make(data, partial) {
            case .unpacked(let how):
                try FileManager.default.moveItem(at: partial, to: unpacked)
                return (unpacked, how)
            case .notUnpacked(let why):
                return (nil, why)
            }
        }
    }

    /// Decompresses the stream at `offset` of `image` into `output`; false (and a line in `tried`)
    /// when the compressor's tool is not installed.
    private func decompress(_ image: URL, at offset: Int, with compressor: Compressor, to output: URL,
                            tried: inout [String]) throws -> Bool {
        guard Subprocess.resolve(compressor.tool) != nil else {
            tried.append("\(compressor.name) at \(offset): \(compressor.tool) not installed")
            return false
        }
        // The tool's exit status is not the verdict: trailing bytes after the payload make some of
        // them complain. What comes out is.
        _ = try Subprocess.run("bash", ["-c", "tail -c +$(($2 + 1)) \"$1\" | \"$3\" \"${@:5}\" > \"$4\" 2>/dev/null",
                                        "unpack", image.path, String(offset), compressor.tool, output.path]
                                       + compressor.arguments)
        return true
    }

    private static func listed(_ tried: [String]) -> String {
        tried.isEmpty ? "" : " (tried \(tried.prefix(6).joined(separator: ", ")))"
    }

    /// Every offset of a compressor's magic, in file order.
    static func candidates(in data: Data) -> [(Int, Compressor)] {
        var found: [(Int, Compressor)] = []
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            let count = bytes.count
            for offset in 0..<count {
                for compressor in compressors where offset + compressor.magic.count <= count {
                    if compressor.magic.indices.allSatisfy({ bytes[offset + $0] == compressor.magic[$0] }) {
                        found.append((offset, compressor))
                    }
                }
            }
        }
        return found
    }
}

/// The notes of an ELF file's PT_NOTE segments (32- or 64-bit, little-endian), read without
/// loading the file.
enum ElfNotes {
    static func contains(file: URL, name: String, type: UInt32) -> Bool {
        guard let data = try? Data(contentsOf: file, options: .alwaysMapped), data.count > 64,
              data.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]), data[5] == 1 else { return false }
        let wide = data[4] == 2
        func integer(_ offset: Int, _ size: Int) -> Int? {
            guard offset >= 0, offset + size <= data.count else { return nil }
            return (0..<size).reduce(0) { $0 | Int(data[data.startIndex + offset + $1]) << (8 * $1) }
        }
        guard let headers = integer(wide ? 0x20 : 0x1C, wide ? 8 : 4),
              let entrySize = integer(wide ? 0x36 : 0x2A, 2), let count = integer(wide ? 0x38 : 0x2C, 2) else { return false }
        for index in 0..<count {
            let header = headers + index * entrySize
            guard integer(header, 4) == 4, // PT_NOTE
                  let start = integer(header + (wide ? 8 : 4), wide ? 8 : 4),
                  let size = integer(header + (wide ? 0x20 : 0x10), wide ? 8 : 4) else { continue }
            var cursor = start
            while cursor + 12 <= start + size {
                guard let nameSize = integer(cursor, 4), let descSize = integer(cursor + 4, 4),
                      let noteType = integer(cursor + 8, 4) else { break }
                let nameStart = cursor + 12
                let padded = { (n: Int) in (n + 3) & ~3 }
                if nameStart + nameSize <= data.count, nameSize > 0,
                   String(decoding: data[(data.startIndex + nameStart)..<(data.startIndex + nameStart + nameSize - 1)], as: UTF8.self) == name,
                   noteType == Int(type) {
                    return true
                }
                cursor = nameStart + padded(nameSize) + padded(descSize)
            }
        }
        return false
    }
}
