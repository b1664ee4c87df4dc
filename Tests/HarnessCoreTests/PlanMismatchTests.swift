import Foundation
import Testing
@testable import HarnessCore

/// KTAP plans that lie about their count, in a suite and at the top level: tests beyond the plan
/// are kept, missing ones are `not_run`, and the mismatch fails the target with what happened.
@Suite("KTAP plans that lie")
struct PlanMismatchTests {
    /// A console of `suites`, each `(plan, result numbers)`, under a top-level plan.
    static func console(topPlan: Int?, _ suites: [(plan: Int?, results: [Int])]) -> String {
        var lines = ["KTAP version 1"] + (topPlan.map { ["1..\($0)"] } ?? [])
        for (index, suite) in suites.enumerated() {
            lines += ["    KTAP version 1", "    # Subtest: s\(index + 1)"] + (suite.plan.map { ["    1..\($0)"] } ?? [])
            lines += suite.results.map { "    ok \($0) t\($0)" }
            lines.append("ok \(index + 1) s\(index + 1)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func collect(_ console: String) -> CollectedResults {
        ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
    }

    @Test("an honest document is complete and passes")
    func honest() {
        let collected = Self.collect(Self.console(topPlan: 2, [(3, [1, 2, 3]), (1, [1])]))
        #expect(collected.document.isComplete && collected.document.planMismatch == nil)
        #expect(collected.document.suites.allSatisfy { $0.planMismatch == nil })
        #expect(collected.status == .passed)
    }

    @Test("a suite reporting more tests than its plan: the extra ones are kept and the target fails")
    func moreThanPlanned() throws {
        let collected = Self.collect(Self.console(topPlan: 1, [(3, [1, 2, 3, 4, 5])]))
        let suite = try #require(collected.document.suites.first)
        #expect(suite.tests.map(\.name) == ["t1", "t2", "t3", "t4", "t5"], "nothing dropped")
        #expect(suite.planMismatch == PlanMismatch(planned: 3, reported: 5, missing: 0, unplanned: [4, 5]))
        #expect(!collected.document.isComplete)
        #expect(collected.status == .failed)
        #expect(collected.reason?.contains("s1 planned 3, reported 5: 4, 5 beyond the plan") == true, "\(collected.reason ?? "")")
    }

    @Test("a suite reporting fewer tests than its plan, and skipping a number: each missing one is not run")
    func fewerThanPlanned() throws {
        let collected = Self.collect(Self.console(topPlan: 1, [(5, [1, 2, 4])]))
        let suite = try #require(collected.document.suites.first)
        #expect(suite.complete, "the suite printed its result line")
        #expect(suite.tests.map(\.number) == [1, 2, 4, 3, 5])
        #expect(suite.tests.filter { $0.status == .notRun }.map(\.id) == ["s1.#3", "s1.#5"])
        #expect(suite.planMismatch == PlanMismatch(planned: 5, reported: 3, missing: 2, unplanned: []))
        #expect(collected.status == .failed, "an ok suite line does not hide two tests that never ran")
        #expect(collected.reason?.contains("2 never reported") == true)
    }

    @Test("a test number reported twice is kept twice and counts as beyond the plan")
    func repeatedNumber() throws {
        let collected = Self.collect(Self.console(topPlan: 1, [(2, [1, 1, 2])]))
        let suite = try #require(collected.document.suites.first)
        #expect(suite.tests.count == 3)
        #expect(suite.planMismatch?.unplanned == [1] && suite.planMismatch?.missing == 0)
        #expect(collected.status == .failed)
    }

    @Test("a top-level plan smaller than the suites reported: every suite kept, the target fails")
    func moreSuitesThanPlanned() {
        let collected = Self.collect(Self.console(topPlan: 1, [(1, [1]), (1, [1]), (1, [1])]))
        #expect(collected.document.suites.map(\.name) == ["s1", "s2", "s3"])
        #expect(collected.document.allTests.count == 3)
        #expect(collected.document.planMismatch == PlanMismatch(planned: 1, reported: 3, missing: 0, unplanned: [2, 3]))
        #expect(collected.status == .failed)
        #expect(collected.reason?.contains("the top-level plan planned 1, reported 3") == true, "\(collected.reason ?? "")")
    }

    @Test("a top-level plan larger than the suites reported: the missing suites are listed as not run")
    func fewerSuitesThanPlanned() {
        let collected = Self.collect(Self.console(topPlan: 4, [(1, [1]), (1, [1])]))
        let suites = collected.document.suites
        #expect(suites.map(\.number) == [1, 2, 3, 4])
        #expect(suites[2...].allSatisfy { $0.status == .notRun && !$0.complete && $0.name.hasPrefix("#") })
        #expect(collected.document.planMismatch?.missing == 2)
        #expect(collected.status == .failed)
    }

    @Test("a plan of a billion costs no more than a thousand placeholders")
    func hugePlan() throws {
        let collected = Self.collect(Self.console(topPlan: 1_000_000_000, [(1_000_000_000, [1])]))
        let suite = try #require(collected.document.suites.first)
        #expect(suite.tests.count == 1 + KTAPPlan.placeholderLimit)
        #expect(suite.planMismatch?.missing == 999_999_999)
        #expect(collected.document.suites.count == 1 + KTAPPlan.placeholderLimit)
        #expect(collected.document.planMismatch?.missing == 999_999_999)
        #expect(collected.status == .failed)
    }

    @Test("the recorded console with its plans edited: suite and top level, as the report and its renderings show it")
    func recordedConsole() throws {
        let recorded = try Fixture.console("x86_64-direct")
        let clean = Self.collect(recorded)
        try #require(clean.status == .passed)
        let discovery = try #require(clean.document.suites.first { $0.name == "dma_discovery" })
        let alloc = try #require(clean.document.suites.first { $0.name == "dma_alloc" })
        let planned = try #require(alloc.plannedTests)
        // dma_alloc claims two tests more than it runs; the top level claims one suite fewer than it has.
        let lied = recorded.replacingOccurrences(of: "    1..\(planned)\r", with: "    1..\(planned + 2)\r")
            .replacingOccurrences(of: "] 1..\(clean.document.plannedSuites!)\r", with: "] 1..\(clean.document.plannedSuites! - 1)\r")
        #expect(lied != recorded)
        let collected = Self.collect(lied)
        let liedAlloc = try #require(collected.document.suites.first { $0.name == "dma_alloc" })
        #expect(liedAlloc.tests.count == planned + 2)
        #expect(liedAlloc.tests.suffix(2).allSatisfy { $0.status == .notRun })
        #expect(collected.document.suites.first { $0.name == "dma_discovery" } == discovery)
        #expect(collected.document.planMismatch?.unplanned == [clean.document.plannedSuites!], "the last suite is beyond the plan, kept")
        #expect(collected.document.suites.count == clean.document.suites.count)
        #expect(collected.status == .failed)

        let report = ConsoleReplay.report(console: lied, consolePath: "x86_64-direct/console.log", arch: "x86_64",
                                          variant: nil, catalog: nil)
        let target = report.targets[0]
        #expect(target.planMismatch == collected.document.planMismatch && !target.ktapComplete)
        #expect(target.summary.notRun == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: try report.encodedJSON()) as? [String: Any])
        let encoded = try #require((json["targets"] as? [[String: Any]])?.first)
        #expect(encoded["planMismatch"] != nil)
        #expect((encoded["suites"] as? [[String: Any]])?.contains { $0["planMismatch"] != nil } == true)
        let junit = JUnitReport.render(report)
        #expect(junit.contains("name=\"#\(planned + 1)\"") && junit.contains("type=\"not_run\""), "missing tests are JUnit errors")
    }
}
