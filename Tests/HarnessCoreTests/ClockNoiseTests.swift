import Foundation
import Testing
@testable import HarnessCore

/// `compare`'s timing noise follows the clock the timings were measured on (recorded runs:
/// Fixtures/reports/README.md, run5 on icount clocks, run1 in real time).
@Suite("timing noise by guest clock")
struct ClockNoiseTests {
    @Test("two identical runs on an icount clock: not one timing change at the icount noise floor")
    func identicalRunsAreQuiet() throws {
        let a = try ReportFixture.load(ReportFixture.icountA), b = try ReportFixture.load(ReportFixture.icountB)
        #expect(a.targets.allSatisfy { $0.clock?.mode == .icount })
        let comparison = ReportComparison.compare(base: a, new: b, baseName: "a", newName: "b")
        #expect(comparison.icountNoise != nil)
        let timings = comparison.changes.filter { [.timingRegression, .timingImprovement, .timingsNotCompared].contains($0.kind) }
        #expect(timings.isEmpty, "\(timings.map(\.subject))")
    }

    @Test("on an icount clock a 4 % slower dma_alloc_attrs() shows on every p50 above 2 µs; real-time noise would hide it")
    func fewPercentShows() throws {
        let a = try ReportFixture.load(ReportFixture.icountA)
        var slower = try ReportFixture.load(ReportFixture.icountB)
        var bumped = Set<String>()
        for t in slower.targets.indices {
            for s in slower.targets[t].suites.indices where slower.targets[t].suites[s].name == "dma_bench" {
                for i in slower.targets[t].suites[s].tests.indices {
                    let test = slower.targets[t].suites[s].tests[i]
                    guard let p50 = test.nanoseconds("alloc_p50_ns"), p50 > 2_000 else { continue }
                    slower.targets[t].suites[s].tests[i].observed["alloc_p50_ns"] = String(format: "%.0f", p50 * 1.04)
                    bumped.insert("\(slower.targets[t].id)/\(test.id):alloc_p50_ns")
                }
            }
        }
        #expect(bumped.count >= 20, "enough figures above 2 µs to mean something")
        let suited = ReportComparison.compare(base: a, new: slower, baseName: "a", newName: "slower")
        let regressions = Set(suited.changes.filter { $0.kind == .timingRegression }.map { "\($0.target)/\($0.subject)" })
        #expect(regressions == bumped)
        #expect(suited.regressed)
        let realtimeNoise = ReportComparison.compare(base: a, new: slower, baseName: "a", newName: "slower", noise: .realtime)
        #expect(!realtimeNoise.changes.contains { $0.kind == .timingRegression })
    }

    @Test("timings of two different clocks are not compared, and say so once per target")
    func differentClocksAreNotCompared() throws {
        let realtime = try ReportFixture.load(ReportFixture.all)
        let icount = try ReportFixture.load(ReportFixture.icountA)
        let comparison = ReportComparison.compare(base: realtime, new: icount, baseName: "realtime", newName: "icount")
        #expect(!comparison.changes.contains { [.timingRegression, .timingImprovement].contains($0.kind) })
        let skipped = comparison.changes.filter { $0.kind == .timingsNotCompared }
        #expect(Set(skipped.map(\.target)) == Set(icount.targets.map(\.id)))
        #expect(skipped.allSatisfy { !$0.regression && $0.base == "real ns" && $0.new?.hasPrefix("virtual ns (icount shift") == true })
        #expect(ComparisonMarkdown.render(comparison).contains("Timings not compared (different guest clocks)"))
    }
}
