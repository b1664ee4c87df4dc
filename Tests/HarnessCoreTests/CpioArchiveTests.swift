import Foundation
import Testing
@testable import HarnessCore

@Suite("Initramfs archive")
struct CpioArchiveTests {
    @Test("GNU cpio reads back exactly what was written", .enabled(if: Subprocess.resolve("cpio") != nil))
    func roundTripThroughCpio() throws {
        var archive = CpioArchive()
        archive.add(.directory(path: "bin"))
        archive.add(.directory(path: "etc/dma-harness"))
        let payload = Data((0..<4099).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        archive.add(.file(path: "bin/busybox", contents: payload, executable: true))
        archive.add(.symlink(path: "bin/sh", target: "busybox"))
        archive.add(.file(path: "etc/dma-harness/insmod-args", contents: Data("edu_dma_bits=32\n".utf8), executable: false))
        archive.add(.characterDevice(path: "dev/console", major: 5, minor: 1))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cpio-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("initramfs.cpio")
        try archive.encoded().write(to: file)

        let listing = try Subprocess.checked("sh", ["-c", "cpio -itv --quiet < \"$0\"", file.path]).standardOutput
        #expect(listing.contains("crw-------"), "console is a character device")
        #expect(listing.contains("bin/sh -> busybox"))

        let extracted = folder.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
        try Subprocess.checked("sh", ["-c", "cd \"$1\" && cpio -id --quiet --no-absolute-filenames < \"$0\" 2>/dev/null || true",
                                      file.path, extracted.path])
        #expect(try Data(contentsOf: extracted.appendingPathComponent("bin/busybox")) == payload)
        #expect(FileManager.default.isExecutableFile(atPath: extracted.appendingPathComponent("bin/busybox").path))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: extracted.appendingPathComponent("bin/sh").path) == "busybox")
        #expect(try String(contentsOf: extracted.appendingPathComponent("etc/dma-harness/insmod-args"), encoding: .utf8) == "edu_dma_bits=32\n")
    }

    @Test("every member starts on a 4-byte boundary with the newc magic")
    func alignment() {
        var archive = CpioArchive()
        archive.add(.file(path: "a", contents: Data([1, 2, 3]), executable: false))
        archive.add(.file(path: "bb", contents: Data([4]), executable: false))
        let bytes = archive.encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        var offsets: [Int] = []
        var search = text.startIndex
        while let range = text.range(of: "070701", range: search..<text.endIndex) {
            offsets.append(text.utf8.distance(from: text.startIndex, to: range.lowerBound))
            search = range.upperBound
        }
        #expect(offsets.count == 3, "two members and the trailer")
        #expect(offsets.allSatisfy { $0 % 4 == 0 })
        #expect(bytes.count % 4 == 0)
    }
}
