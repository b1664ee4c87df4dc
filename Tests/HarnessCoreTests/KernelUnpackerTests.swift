import Foundation
import Testing
@testable import HarnessCore

/// The unpacker on real ELF files of the host (its own `true`), wrapped the way a self-decompressing
/// kernel wraps its payload: code before the compressed stream, bytes after it.
@Suite("kernel unpacker")
struct KernelUnpackerTests {
    let elf = URL(fileURLWithPath: "/bin/true")
    // Every GNU/Linux executable carries a GNU build-id note (NT_GNU_BUILD_ID = 3).
    let buildID = ArchProfile.UncompressedBoot.ElfNote(name: "GNU", type: 3)

    /// A folder of the test's own under the temporary directory; the test removes it.
    static func scratch(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dh-unpack-\(getpid())-\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// `file` as `tool` (xz, zstd, gzip) compresses it.
    static func compressed(_ file: URL, with tool: String) throws -> Data {
        let packed = try Subprocess.checked("bash", ["-c", "\"$1\" -c < \"$2\" | base64 -w0", "pack", tool, file.path])
        return try #require(Data(base64Encoded: packed.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("ELF notes are read from the PT_NOTE segments; a missing note or a non-ELF file is no")
    func notes() throws {
        #expect(ElfNotes.contains(file: elf, name: "GNU", type: 3))
        #expect(!ElfNotes.contains(file: elf, name: "Xen", type: 18))
        let script = URL(fileURLWithPath: "/usr/bin/ldd") // a shell script
        #expect(!ElfNotes.contains(file: script, name: "GNU", type: 3))
    }

    @Test("the payload is found behind a false magic, decompressed by each tool, checked, cached", arguments: ["xz", "zstd", "gzip"])
    func unpacks(compressor: String) throws {
        let scratch = try Self.scratch(compressor)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let payload = try Self.compressed(elf, with: compressor)
        let magic = try #require(KernelUnpacker.compressors.first { $0.name == compressor }?.magic)
        // A decoy: the magic with garbage behind it, as a decompressor's own code may hold it.
        var image = Data("setup code ".utf8) + Data(magic) + Data(repeating: 0x5A, count: 64)
        image += payload + Data("trailing size and padding".utf8)
        let file = scratch.appendingPathComponent("vmlinuz")
        try image.write(to: file)

        let unpacker = KernelUnpacker(cacheRoot: scratch.appendingPathComponent("cache"))
        let (unpacked, how) = try unpacker.unpack(file, requiring: buildID)
        let result = try #require(unpacked, "\(how)")
        #expect(how.hasPrefix("unpacked \(compressor) at byte"))
        #expect(try Data(contentsOf: result) == Data(contentsOf: elf))
        #expect(try unpacker.unpack(file, requiring: buildID).1 == "cached")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: result.deletingLastPathComponent().path)
        #expect(!leftovers.contains { $0.contains(".partial-") })
    }

    @Test("an image whose payload lacks the note boots compressed, and says why")
    func withoutTheNote() throws {
        let scratch = try Self.scratch("note")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("vmlinuz")
        try Subprocess.checked("bash", ["-c", "gzip -c < \"$1\" > \"$2\"", "pack", elf.path, file.path])
        let (unpacked, why) = try KernelUnpacker(cacheRoot: scratch).unpack(file, requiring: .init(name: "Xen", type: 18))
        #expect(unpacked == nil)
        #expect(why.contains("no payload of vmlinuz is an ELF with note Xen/18") && why.contains("gzip at 0"))
    }

    /// mkimage's header for `pattern` at 0x40208000 (see `uImageHeader`), in hex.
    static let mkimageHeader = "27051956f907649a0000000000001000402080004020800080e3a24705020200"
        + "646d612d6861726e65737320756e7061636b6564206b65726e656c0000000000"

    /// 4096 bytes that are the same on every host.
    static let pattern = Data((0..<4096).map { UInt8(($0 * 7 + 3) % 251) })

    @Test("CRC-32 is zlib's: the check value of \"123456789\" is 0xCBF43926")
    func crc() {
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
    }

    @Test("the uImage header is byte for byte what U-Boot's mkimage writes")
    func uImageHeader() {
        // Recorded from mkimage 2023.01 (Debian 12's u-boot-tools):
        // SOURCE_DATE_EPOCH=0 mkimage -A arm -O linux -T kernel -C none -a 0x40208000 -e 0x40208000
        //   -n "dma-harness unpacked kernel" -d pattern.bin pattern.uimage
        let recorded = Self.mkimageHeader
        let header = UImage.header(for: Self.pattern, loadAddress: 0x4020_8000, architecture: 2, name: "dma-harness unpacked kernel")
        #expect(header.map { String(format: "%02x", $0) }.joined() == recorded)
    }

    /// A self-decompressing image laid out as the loader table describes: decompressor bytes with
    /// the header words, the table, a decoy magic, the compressed payload, then the size word.
    static func describedImage(payload: Data, compressed: Data, textOffset: UInt32, tableBlocks: [[UInt32]]? = nil) -> Data {
        func words(_ values: [UInt32]) -> Data { Data(values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }) }
        var image = Data(repeating: 0xE1, count: 0x24)
        let tableAt: UInt32 = 0x40
        let sizeAt = UInt32(0x80 + 6 + 64 + compressed.count)
        image += words([LoaderTable.signature, 0, 0, LoaderTable.littleEndian, LoaderTable.tableMarker, tableAt])
        image += Data(repeating: 0, count: Int(tableAt) - image.count)
        let blocks = tableBlocks ?? [[3, 0x4D41_4749, 1], [6, LoaderTable.sizeTag, sizeAt, 0x5E4D4, textOffset, 0x10000]]
        image += words(blocks.flatMap { $0 } + [0])
        image += Data(repeating: 0, count: 0x80 - image.count)
        image += Data([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) + Data(repeating: 0x5A, count: 64)
        image += compressed
        image += words([UInt32(payload.count)]) + Data("padding".utf8)
        return image
    }

    @Test("a raw kernel is unpacked by the loader table's size and wrapped to load at RAM base + text offset")
    func rawImage() throws {
        let scratch = try Self.scratch("raw")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let payloadFile = scratch.appendingPathComponent("payload")
        try Self.pattern.write(to: payloadFile)
        let compressed = try Self.compressed(payloadFile, with: "xz")
        let file = scratch.appendingPathComponent("vmlinuz")
        try Self.describedImage(payload: Self.pattern, compressed: compressed, textOffset: 0x20_8000).write(to: file)

        let raw = ArchProfile.UncompressedBoot.RawImage(memoryBase: "0x40000000", uImageArchitecture: 2)
        let unpacker = KernelUnpacker(cacheRoot: scratch.appendingPathComponent("cache"))
        let (unpacked, how) = try unpacker.unpack(file, as: .init(elfNote: nil, rawImage: raw, why: nil))
        let result = try #require(unpacked, "\(how)")
        #expect(how == "unpacked xz at byte 198, loaded at 0x40208000") // 0x80 + the decoy's 70 bytes
        let booted = try Data(contentsOf: result)
        // The recorded mkimage header, not the writer's own output: the unpacker must produce it.
        #expect(booted.prefix(64).map { String(format: "%02x", $0) }.joined() == Self.mkimageHeader)
        #expect(booted.dropFirst(64) == Self.pattern)
        #expect(try unpacker.unpack(file, placedBy: raw).1 == "cached")
    }

    @Test("an image without a usable loader table, or whose payload has another size, boots compressed and says why")
    func rawImageRefused() throws {
        let scratch = try Self.scratch("rawno")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let raw = ArchProfile.UncompressedBoot.RawImage(memoryBase: "0x40000000", uImageArchitecture: 2)
        let other = scratch.appendingPathComponent("other-payload")
        try Data("not the payload".utf8).write(to: other)
        let compressed = try Self.compressed(other, with: "gzip")
        let cases: [(String, Data, String)] = [
            ("plain", Data("no header here".utf8), "has no header table"),
            ("no-size-block", Self.describedImage(payload: Self.pattern, compressed: compressed, textOffset: 0x8000,
                                                  tableBlocks: [[3, 0x4D41_4749, 1]]), "has no header table"),
            ("short-block", Self.describedImage(payload: Self.pattern, compressed: compressed, textOffset: 0x8000,
                                                tableBlocks: [[4, LoaderTable.sizeTag, 0x80, 0]]), "has no header table"),
            ("other-size", Self.describedImage(payload: Self.pattern, compressed: compressed, textOffset: 0x8000),
             "decompresses to the 4096 bytes its header table states"),
        ]
        for (name, image, reason) in cases {
            let file = scratch.appendingPathComponent(name)
            try image.write(to: file)
            let (unpacked, why) = try KernelUnpacker(cacheRoot: scratch.appendingPathComponent("cache")).unpack(file, placedBy: raw)
            #expect(unpacked == nil, "\(name)")
            #expect(why.contains(reason), "\(name): \(why)")
        }
        let (unpacked, why) = try KernelUnpacker(cacheRoot: scratch).unpack(
            scratch.appendingPathComponent("plain"), placedBy: .init(memoryBase: "RAM", uImageArchitecture: 2))
        #expect(unpacked == nil && why.contains("is not a hex address"))
    }
}
