import Foundation
import Testing
@testable import HarnessCore

/// Bugs the fuzz targets (Tests/Fuzz) found, each from the input that found it.
@Suite("inputs the fuzzers found")
struct FuzzFindingsTests {
    @Test("a mangled plan line (1..16777216 then diagnostics) is no plan; a real plan of 16777216 lists a bounded number not run")
    func hugePlan() throws {
        let mangled = KTAPParser().parse(console: try Fixture.fuzzInput("ktap-plan-16777216.log"))
        #expect(!mangled.suites.contains { $0.plannedTests == 16_777_216 })
        #expect(!mangled.isComplete)

        let console = "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n    1..16777216\n    ok 1 t\nok 1 s\n"
        let document = KTAPParser().parse(console: console)
        let suite = try #require(document.suites.first { $0.plannedTests == 16_777_216 })
        let notRun = suite.tests.filter { $0.status == .notRun }
        #expect(notRun.count == KTAPPlan.placeholderLimit)
        // The placeholders stand for the lowest numbers never reported, each once.
        #expect(notRun.map(\.number) == Array(2...(KTAPPlan.placeholderLimit + 1)))
        #expect(!document.isComplete)
    }

    @Test("a suite that prints its result line before its plan is met leaves the document incomplete")
    func suiteEndsBeforeItsPlan() throws {
        let console = try Fixture.fuzzInput("ktap-suite-ends-before-its-plan.log")
        let document = KTAPParser().parse(console: console)
        // Lines joined by bare CRs are one line: "1..1\r  KTAP version 1\r  1..6" is no plan at all.
        #expect(document.plannedSuites == nil)
        #expect(!document.isComplete)
        let collected = ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
        #expect(collected.status == .failed)
        #expect(collected.reason?.hasPrefix("KTAP output incomplete") == true)
    }

    @Test("a report whose console span is not [first, last] from 1 is refused with one line that names it",
          arguments: ["report-console-lines-empty.json", "report-console-lines-reversed.json", "report-console-lines-int-min.json"])
    func consoleSpans(file: String) throws {
        let url = Fixture.folder.appendingPathComponent("fuzz").appendingPathComponent(file)
        let error = try #require(throws: HarnessError.self) { try RunReport.load(from: url) }
        #expect(error.status == .usage)
        #expect(error.message.contains("consoleLines") && error.message.contains(" at .targets[0].suites["))
    }

    @Test("dma_bench values no guest measures (1e300, -inf, nan): compare, HTML and KCIDB take only real timings")
    func timingsOutOfRange() throws {
        let url = Fixture.folder.appendingPathComponent("fuzz/report-bench-timings-out-of-range.json")
        let report = try RunReport.load(from: url)
        let target = try #require(report.targets.first)
        let values = BenchTiming.of(target).flatMap(\.nanoseconds.values)
        #expect(values.allSatisfy { $0.isFinite })

        // 1e300 ns is a (very) slow allocation; -inf and nan are no timing at all.
        let comparison = ReportComparison.compare(base: try ReportFixture.load(ReportFixture.initOnAlloc), new: report,
                                                  baseName: "base", newName: "new")
        let regressions = comparison.changes.filter { $0.kind == .timingRegression && $0.subject.hasSuffix(":alloc_p50_ns") }
        #expect(regressions.map(\.subject) == ["dma_bench.none_4096_gfp_kernel:alloc_p50_ns"])

        #expect(HTMLReport.render(report, reportFolder: url.deletingLastPathComponent()).contains("dma_bench: in-guest latency"))
        let kcidb = try #require(try JSONSerialization.jsonObject(with: KCIDBReport.render(report)) as? [String: Any])
        let numbered = (kcidb["tests"] as? [[String: Any]] ?? []).filter { $0["number"] != nil }
        #expect(numbered.compactMap { $0["path"] as? String } == ["dma_harness.dma_bench.none_4096_gfp_kernel"])
    }

    // The 1 MiB runs (fuzz.sh --max-len 1048576) and inputs grown 64 KiB -> 1 MiB showed time
    // growing with the square of the length for these two. These tests check the results; the time
    // is fuzz.sh's to watch (its long-input runs fail an input slower than --timeout), since a time
    // limit here fails on a loaded machine (it did, under a soak, at 60 s).

    @Test("one suite of 20000 results parses whole (each result used to copy the suite's lists)")
    func manyResultsInOneSuite() {
        let count = 20_000
        var console = "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: dma_alloc\n    1..\(count)\n"
        for number in 1...count {
            console += "    # t\(number): attrs=none size=4096 ok=1\n    ok \(number) t\(number)\n"
        }
        console += "ok 1 dma_alloc\n"
        let document = KTAPParser().parse(console: console)
        #expect(document.isComplete)
        #expect(document.allTests.count == count)
        #expect(document.allTests.last?.parameters["size"] == "4096")
    }

    @Test("the live watcher takes a 1 MiB line in 16-byte chunks, then sees the panic after it (it used to search the whole line again for every chunk)")
    func longLineWatched() throws {
        let recorder = try ConsoleRecorder(file: nil)
        let stream = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            + Array("\r\n[    2.000000] Kernel panic - not syncing: fuzz\r\n".utf8)
        for start in stride(from: 0, to: stream.count, by: 16) {
            recorder.append(Array(stream[start..<min(start + 16, stream.count)]))
        }
        #expect(recorder.panicTime != nil)
        #expect(recorder.bytesWritten == stream.count)
    }
}
