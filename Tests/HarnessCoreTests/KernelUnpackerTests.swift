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

    @Test("ELF notes are read from the PT_NOTE segments; a missing note or a non-ELF file is no")
    func notes() throws {
        #expect(ElfNotes.contains(file: elf, name: "GNU", type: 3))
        #expect(!ElfNotes.contains(file: elf, name: "Xen", type: 18))
        let script = URL(fileURLWithPath: "/usr/bin/ldd") // a shell script
        #expect(!ElfNotes.contains(file: script, name: "GNU", type: 3))
    }

    @Test("the payload is found behind a false magic, decompressed by each tool, checked, cached", arguments: ["xz", "zstd", "gzip"])
    func unpacks(compressor: String) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dh-unpack-\(getpid())-\(compressor)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let compressed = try Subprocess.checked("bash", ["-c", "\"$1\" -c < \"$2\" | base64 -w0", "pack", compressor, elf.path])
        let payload = try #require(Data(base64Encoded: compressed.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
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
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dh-unpack-\(getpid())-note")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("vmlinuz")
        try Subprocess.checked("bash", ["-c", "gzip -c < \"$1\" > \"$2\"", "pack", elf.path, file.path])
        let (unpacked, why) = try KernelUnpacker(cacheRoot: scratch).unpack(file, requiring: .init(name: "Xen", type: 18))
        #expect(unpacked == nil)
        #expect(why.contains("no payload of vmlinuz is an ELF with note Xen/18") && why.contains("gzip at 0"))
    }
}
