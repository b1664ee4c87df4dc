import Foundation
import Testing
@testable import HarnessCore

/// The boot timeline the live console recorder keeps (report 2.4): when /init, the suite's start,
/// each suite's result and the suite's end were read.
@Suite("Boot timeline from the live console")
struct BootTimelineTests {
    /// Feeds a console to a recorder as a guest's console arrives: in pieces of uneven size.
    static func record(_ console: String) throws -> ConsoleRecorder {
        let recorder = try ConsoleRecorder(file: nil)
        let bytes = Array(console.utf8)
        var offset = 0, piece = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            recorder.append(Array(bytes[offset..<end]))
            offset = end
            piece = piece * 7 % 4093 + 1
        }
        return recorder
    }

    @Test("every suite the parser finds is on the timeline, in order, and no subtest is",
          arguments: ["arm-direct", "arm64-direct", "x86_64-direct", "arm64-smmuv3", "arm-noncoherent"])
    func suitesInOrder(name: String) throws {
        let console = try Fixture.console(name)
        let start = Date()
        let timeline = try Self.record(console).timeline(since: start)
        let parsed = KTAPParser().parse(console: console).suites.map(\.name)
        #expect(!parsed.isEmpty)
        #expect(timeline.suites.map(\.name) == parsed)
        let marks = [timeline.initSeconds, timeline.suiteStartSeconds] + timeline.suites.map { Optional($0.seconds) }
            + [timeline.suiteEndSeconds]
        #expect(marks.allSatisfy { $0 != nil }, "a complete run shows every milestone")
        let seconds = marks.compactMap { $0 }
        #expect(seconds.allSatisfy { $0 >= 0 })
        #expect(zip(seconds, seconds.dropFirst()).allSatisfy { $0 <= $1 }, "milestones are read in console order")
        #expect(timeline.split != nil)
    }

    @Test("a guest that panics before its suite ends has no suite end and no boot/suite split")
    func panicked() throws {
        let timeline = try Self.record(try Fixture.console("arm64-panic")).timeline(since: Date())
        #expect(timeline.suiteEndSeconds == nil)
        #expect(timeline.split == nil)
    }

    @Test("a console that prints thousands of suite results keeps a bounded timeline")
    func bounded() throws {
        let lying = (1...5000).map { "ok \($0) dma_fake_\($0)\r\n" }.joined()
        let timeline = try Self.record(lying).timeline(since: Date())
        #expect(timeline.suites.count == ConsoleRecorder.maxSuiteResults)
        #expect(timeline.suites.first?.name == "dma_fake_1")
    }

    @Test("only suite result lines are on the timeline, named as the KTAP parser names them",
          arguments: [
            ("ok 3 dma_edu", "dma_edu"), ("not ok 2 dma_alloc", "dma_alloc"),
            ("not ok 6 dma_bench # SKIP no device", "dma_bench"), ("ok 12 - dma_reload", "dma_reload"),
            ("    ok 1 device_facts", nil), ("ok dma_edu", nil), ("ok 3", nil), ("ok 3 ", nil),
            ("okay 3 dma_edu", nil), ("not ok x dma_edu", nil), ("ok ٣ dma_edu", nil),
          ] as [(String, String?)])
    func resultLines(line: String, name: String?) throws {
        let timeline = try Self.record("[    1.000000] \(line)\r\n").timeline(since: Date())
        #expect(timeline.suites.map(\.name) == (name.map { [$0] } ?? []))
    }
}
