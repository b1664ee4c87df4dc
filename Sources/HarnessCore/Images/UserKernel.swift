import Foundation

/// Checks a user's own kernel build (`--kernel FILE --kbuild DIR`) before anything boots, and
/// turns it into a `GuestImage` (busybox still comes from the arch's Debian recipe).
public enum UserKernel {
    public static func image(kernelFile: String, kbuildDirectory: String, profile: ArchProfile,
                             busyboxFrom debian: GuestImage) throws -> GuestImage {
        let kernel = URL(fileURLWithPath: kernelFile).standardizedFileURL
        let kbuild = URL(fileURLWithPath: kbuildDirectory).standardizedFileURL
        guard FileManager.default.isReadableFile(atPath: kernel.path) else {
            throw HarnessError.usage("--kernel \(kernelFile): no such readable file; give the boot image (arch/\(profile.kbuildArch)/boot/...)")
        }
        let head = try KernelImageInspector.leadingBytes(of: kernel, count: 64 * 1024)
        guard KernelImageInspector.matches(profile.kernelMagic, bytes: head) else {
            throw HarnessError.usage("--kernel \(kernelFile) is not an \(profile.kernelMagic.format), the image format of --arch \(profile.name)")
        }
        guard FileManager.default.fileExists(atPath: kbuild.appendingPathComponent("Makefile").path),
              let release = kbuildRelease(of: kbuild)
        else {
            throw HarnessError.usage("--kbuild \(kbuildDirectory) is not a built kernel tree (expected Makefile and include/generated/utsrelease.h or include/config/kernel.release)")
        }
        if let imageRelease = try KernelImageInspector.release(of: kernel), imageRelease != release {
            throw HarnessError.usage("--kernel is release \(imageRelease) but --kbuild \(kbuildDirectory) is \(release): the module would not load; give the tree the kernel was built from")
        }
        let config = kbuild.appendingPathComponent(".config")
        return GuestImage(
            arch: profile.name, kernelRelease: release, kernelImage: kernel.path,
            kernelConfig: FileManager.default.fileExists(atPath: config.path) ? config.path : nil,
            kbuildDirectory: kbuild.path, busybox: debian.busybox,
            provenance: .user(kernelFile: kernel.path, sha256: try FileDigest.sha256(of: kernel),
                              kbuildDirectory: kbuild.path))
    }

    /// The release a module built in `kbuild` gets as its vermagic: `UTS_RELEASE` from
    /// `include/generated/utsrelease.h`. Debian's header trees keep only the upstream version in
    /// `include/config/kernel.release` (`6.1.192` for `6.1.0-57-<flavour>`), so that file is the
    /// fallback, for trees without the generated header.
    static func kbuildRelease(of kbuild: URL) -> String? {
        let header = kbuild.appendingPathComponent("include/generated/utsrelease.h")
        if let text = try? String(contentsOf: header, encoding: .utf8),
           let open = text.firstIndex(of: "\""), let close = text.lastIndex(of: "\""), open < close {
            return String(text[text.index(after: open)..<close])
        }
        let file = kbuild.appendingPathComponent("include/config/kernel.release")
        let release = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return release?.isEmpty == false ? release : nil
    }
}

/// Reads what a boot image says about itself without booting it.
public enum KernelImageInspector {
    /// The first `count` bytes, gunzipped first when the file is a gzip stream (some of Debian's vmlinuz files are).
    public static func leadingBytes(of file: URL, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let raw = [UInt8](handle.readData(ofLength: count))
        guard raw.starts(with: [0x1f, 0x8b]) else { return raw }
        let outcome = try Subprocess.run("sh", ["-c", "gzip -dc \"$0\" 2>/dev/null | head -c \(count)", file.path])
        return [UInt8](outcome.standardOutput.utf8)
    }

    public static func matches(_ magic: ArchProfile.KernelMagic, bytes: [UInt8]) -> Bool {
        let expected = stride(from: 0, to: magic.hex.count, by: 2).compactMap { offset -> UInt8? in
            let start = magic.hex.index(magic.hex.startIndex, offsetBy: offset)
            return UInt8(magic.hex[start..<magic.hex.index(start, offsetBy: 2)], radix: 16)
        }
        guard bytes.count >= magic.offset + expected.count else { return false }
        return Array(bytes[magic.offset..<magic.offset + expected.count]) == expected
    }

    /// The release the image was built as, where the format shows it without decompression:
    /// a boot image's setup header (`HdrS` at 0x202) and its `kernel_version` field, or a plain `Linux version` string. Nil if unknown.
    public static func release(of file: URL) throws -> String? {
        let data = try Data(contentsOf: file)
        let bytes = [UInt8](data.prefix(32 * 1024 * 1024))
        if bytes.count > 0x210, Array(bytes[0x202..<0x206]) == Array("HdrS".utf8) {
            let pointer = Int(bytes[0x20E]) | Int(bytes[0x20F]) << 8
            let start = pointer + 0x200
            if pointer != 0, start < bytes.count {
                let text = bytes[start...].prefix { $0 != 0 && $0 != 0x20 }
                return String(decoding: text, as: UTF8.self)
            }
        }
        let marker = Array("Linux version ".utf8)
        if let range = data.range(of: Data(marker)) {
            let text = data[range.upperBound...].prefix { $0 != 0 && $0 != 0x20 }
            return String(decoding: text, as: UTF8.self)
        }
        return nil
    }

}
