import Foundation
import Testing
@testable import HarnessCore

/// A console of any size is read in bounded memory, and the report says what was left out.
/// Memory is measured, never time: the peak resident set of this process while the code runs,
/// from a high-water mark reset just before (Linux's /proc/self/clear_refs).
@Suite("console limits", .serialized)
struct ConsoleLimitTests {
    static let gibibyte = 1 << 30
    /// What the collection of a 1 GiB console may add to the process's peak memory: far below the
    /// gigabyte that reading it whole costs, far above what the limits allow (16 MiB of console).
    static let memoryBound = 256 << 20

    /// A 1 GiB console that never ends its line: a KTAP header and an open suite, then 1 GiB of
    /// output without a newline. The first 32 MiB are written (twice the byte limit, so every byte
    /// the reader takes is real output); the rest is a hole in a sparse file (NULs, no disk space).
    static func floodConsole(in folder: URL) throws -> (file: URL, size: Int) {
        let file = folder.appendingPathComponent("arm64-direct/console.log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let header = "[    0.1] KTAP version 1\r\n[    0.1] 1..1\r\n[    0.1]     KTAP version 1\r\n[    0.1]     # Subtest: flood\r\n[    0.1]     1..1\r\n[    0.2]     # flood: "
        FileManager.default.createFile(atPath: file.path, contents: Data(header.utf8))
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        let chunk = Data(repeating: UInt8(ascii: "A"), count: 4 << 20)
        for _ in 0..<8 { try handle.write(contentsOf: chunk) }
        let size = header.utf8.count + gibibyte
        try handle.truncate(atOffset: UInt64(size))
        return (file, size)
    }

    @Test("a 1 GiB console with no newline: collected and rendered in bounded memory, and the report says it was cut")
    func gibibyteWithoutNewline() throws {
        let folder = try Hostile.scratchFolder("gib")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, size) = try Self.floodConsole(in: folder)
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue == size)

        var report: RunReport?
        var html = ""
        let growth = try PeakMemory.growth {
            report = try Hostile.report(consoleFile: file, in: folder)
            html = HTMLReport.render(report!, reportFolder: folder)
        }
        print("1 GiB console: collect + HTML raised peak RSS by \(growth >> 20) MiB")
        #expect(growth < Self.memoryBound, "peak memory grew by \(growth >> 20) MiB")

        let target = try #require(report?.targets.first)
        let cut = try #require(target.consoleCut)
        let limits = ConsoleLimits.standard
        #expect(cut.totalBytes == size && cut.readBytes == limits.maxBytes && cut.stoppedEarly)
        #expect(cut.cutLines == 1 && cut.firstCutLine == 6 && cut.readLines == 6)
        #expect(cut.byteLimit == limits.maxBytes && cut.lineLimit == limits.maxLines && cut.lineByteLimit == limits.maxLineBytes)
        #expect(target.status == .failed)
        #expect(target.reason?.contains("console cut: read the first \(limits.maxBytes) of \(size) bytes") == true, "\(target.reason ?? "")")
        #expect(target.allTests.count == 1 && target.allTests[0].status == .notRun, "the test never ended")
        let json = String(decoding: try report!.encodedJSON(), as: UTF8.self)
        #expect(json.contains("\"consoleCut\"") && json.count < 1 << 20, "the report is small")
        #expect(html.utf8.count < 1 << 20)
    }

    @Test("a 1 GiB sparse console (NULs only) is read to the byte limit and yields nothing")
    func sparseNULs() throws {
        let folder = try Hostile.scratchFolder("sparse")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("console.log")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        try FileHandle(forWritingTo: file).truncate(atOffset: UInt64(Self.gibibyte))
        var transcript: ConsoleTranscript?
        let growth = try PeakMemory.growth { transcript = try ConsoleTranscript.read(from: file) }
        #expect(growth < Self.memoryBound)
        #expect(transcript?.lines == [""], "one line, its NULs dropped")
        #expect(transcript?.cut?.readBytes == ConsoleLimits.standard.maxBytes && transcript?.cut?.totalBytes == Self.gibibyte)
    }

    @Test("a flood of empty lines stops at the line limit")
    func newlineFlood() {
        let limits = ConsoleLimits(maxBytes: 1 << 20, maxLines: 1000, maxLineBytes: 64)
        let transcript = ConsoleTranscript(text: String(repeating: "\n", count: 5000), limits: limits)
        #expect(transcript.lines.count == 1000)
        #expect(transcript.cut?.readLines == 1000 && transcript.cut?.readBytes == 1000 && transcript.cut?.totalBytes == 5000)
    }

    @Test("a flood of WARNINGs: every one found, only the first ones with an excerpt of the lines after them")
    func warningFlood() {
        let console = String(repeating: "WARNING: CPU: 0 PID: 1 at x.c:1\n", count: 2000)
        let findings = ConsoleScanner.findings(in: console)
        #expect(findings.count == 2000)
        #expect(findings.prefix(ConsoleScanner.excerptedFindings).allSatisfy { $0.excerpt.count == ConsoleScanner.excerptLength })
        #expect(findings.dropFirst(ConsoleScanner.excerptedFindings).allSatisfy { $0.excerpt == [$0.summary] })
    }

    @Test("a line over the limit is cut with a marker, counted, and the KTAP after it still parses")
    func longLineInTheMiddle() throws {
        let clean = try Fixture.console("x86_64-direct")
        var lines = Hostile.lines(of: clean)
        let long = "[    0.5] " + String(repeating: "x", count: 10 << 20) + "\r"
        lines.insert(long, at: 3)
        let transcript = ConsoleTranscript(text: lines.joined(separator: "\n"))
        let cut = try #require(transcript.cut)
        #expect(!cut.stoppedEarly && cut.cutLines == 1 && cut.firstCutLine == 4)
        #expect(transcript.lines[3].hasSuffix(ConsoleTranscript.cutMarker(totalLineBytes: long.utf8.count)))
        #expect(transcript.lines[3].utf8.count <= ConsoleLimits.standard.maxLineBytes + 64)

        let collected = ResultCollector.collect(transcript: transcript, ending: .poweredOff, detail: "powered off")
        let reference = ResultCollector.collect(console: clean, ending: .poweredOff, detail: "powered off")
        #expect(collected.document.allTests.map(\.id) == reference.document.allTests.map(\.id))
        #expect(collected.document.isComplete)
        #expect(collected.status == .passed, "a cut line alone does not fail a run: \(collected.reason ?? "")")
        #expect(collected.consoleCut == cut)
    }

    @Test("the live recorder watches a 256 MiB line without a newline in bounded memory and still sees the suite end")
    func liveRecorder() throws {
        let recorder = try ConsoleRecorder(file: nil)
        let chunk = [UInt8](repeating: UInt8(ascii: "B"), count: 1 << 20)
        let growth = try PeakMemory.growth {
            for _ in 0..<256 { recorder.append(chunk) }
            recorder.append(Array("\r\n[    9.0] dma-harness: suite end rc=0\r\n".utf8))
        }
        #expect(growth < 128 << 20, "peak memory grew by \(growth >> 20) MiB")
        #expect(recorder.suiteEnded)
        #expect(recorder.bytesWritten > 256 << 20)
    }

    @Test("the console file is followed a bounded chunk at a time")
    func follower() throws {
        let folder = try Hostile.scratchFolder("follow")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("console.log")
        try Data(repeating: 0x41, count: 20 * FileFollower.chunkBytes + 5).write(to: file)
        let follower = FileFollower(file: file)
        var sizes: [Int] = []
        follower.readNewBytes(chunks: 16) { sizes.append($0.count) }
        #expect(sizes.count == 16 && sizes.allSatisfy { $0 == FileFollower.chunkBytes })
        follower.readNewBytes { sizes.append($0.count) }
        #expect(sizes.count == 21 && sizes.last == 5, "the rest, on the next call")
    }
}

/// How much a piece of code raises this process's peak resident memory.
enum PeakMemory {
    /// Bytes by which the resident high-water mark rose while `body` ran, measured from the
    /// resident size just before it (the mark is reset there).
    static func growth(_ body: () throws -> Void) throws -> Int {
        // Linux >= 4.0: writing 5 resets VmHWM to the current VmRSS.
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = try status("VmRSS")
        try body()
        return try status("VmHWM") - before
    }

    /// A `kB` field of /proc/self/status, in bytes.
    static func status(_ field: String) throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kilobytes = Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        else { throw HostileFixtureError("no \(field) in /proc/self/status") }
        return kilobytes * 1024
    }
}
