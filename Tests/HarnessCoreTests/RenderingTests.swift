import Foundation
import Testing
@testable import HarnessCore

@Suite("renderings of real reports")
struct RenderingTests {
    @Test("Markdown has a matrix per variant and each violation with its evidence and console link")
    func markdown() throws {
        let report = try ReportFixture.load(ReportFixture.all)
        let text = MarkdownReport.render(report)
        for variant in ["direct", "iommu", "noncoherent"] { #expect(text.contains("## Variant `\(variant)`")) }
        // Every row and every violation's evidence is derived from the report itself.
        for target in report.targets where target.status != .unsupported {
            let none = try #require(target.attributes.first { $0.attribute == "none" })
            let cell = none.verdict == .violated ? "**\(none.cell)**" : none.cell
            #expect(text.contains("| `\(target.arch)` | \(target.status.rawValue) | \(target.summary.passed)/\(target.summary.total) | \(cell)"),
                    "\(target.id) row")
        }
        let arm64 = try #require(report.targets.first { $0.id == "arm64-direct" })
        let violation = try #require(arm64.attributes.first { $0.verdict == .violated })
        let evidence = try #require(arm64.suites.flatMap(\.tests).first { $0.id == violation.evidence.first })
        let reason = try #require(evidence.observed["reason"])
        #expect(text.contains("`\(evidence.id)` (attrs=\(evidence.parameters["attrs"] ?? "")"))
        #expect(text.contains("`reason=\(reason)"))
        if let lines = evidence.consoleLines {
            #expect(text.contains("(arm64-direct/console.log#L\(lines[0]))"), "links to the test's console lines")
        }
        for target in report.targets where target.status == .unsupported {
            #expect(text.contains("`\(target.id)` is unsupported"))
        }
    }

    @Test("JUnit counts follow from the report: failures, XFAIL skips, not-run errors, one boot case per target")
    func junitCounts() throws {
        let report = try ReportFixture.load(ReportFixture.all)
        let counts = JUnitReport.counts(report)
        let tests = report.targets.flatMap(\.allTests)
        #expect(counts.tests == tests.count + report.targets.count)
        #expect(counts.failures == tests.filter { $0.status == .fail }.count)
        #expect(counts.skipped == tests.filter { $0.status == .skip }.count + 1, "one unsupported target")
        let waived = Waivers.apply([Waiver(target: "arm64-direct", test: "dma_alloc.*", reason: "r")], file: "w", to: report)
        let moved = waived.waivers!.applied.filter { $0.kind == .test }.count
        #expect(moved > 0)
        #expect(JUnitReport.counts(waived).failures == counts.failures - moved)
        #expect(JUnitReport.counts(waived).skipped == counts.skipped + moved)
        #expect(JUnitReport.render(waived).contains("XFAIL: r"))
    }

    @Test("guest and path strings are escaped in HTML and XML, control characters included")
    func escaping() throws {
        var report = try ReportFixture.load(ReportFixture.cma0)
        let hostile = "<script>alert(1)</script>\u{1b}[31m\"'&"
        report.targets[0].suites[0].tests[0].observed["reason"] = hostile
        report.targets[0].suites[0].tests[0].status = .fail
        report.targets[0].reason = hostile
        report.targets[0].logs.console = "a\"><img src=x>/console.log"
        report.targets[0].attributes[0].evidence.append(report.targets[0].suites[0].tests[0].id)
        let html = HTMLReport.render(report, reportFolder: FileManager.default.temporaryDirectory)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img src=x>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\u{FFFD}[31m&quot;&#39;&amp;"))
        let xml = JUnitReport.render(report)
        #expect(!xml.contains("<script>") && !xml.contains("\u{1b}"))
        // Markdown: prose is entity-escaped; inside code spans GitHub shows text literally.
        #expect(MarkdownReport.render(report).contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    @Test("HTML inlines each failing test's console lines from the console beside the report, and a timing chart")
    func htmlExcerpts() throws {
        let report = try ReportFixture.load(ReportFixture.all)
        let folder = ReportFixture.url(ReportFixture.all).deletingLastPathComponent()
        let html = HTMLReport.render(report, reportFolder: folder)
        let target = try #require(report.targets.first { $0.id == "arm64-direct" })
        let failing = try #require(target.failingTests.first)
        let lines = try #require(ConsoleExcerpts(reportFolder: folder).lines(of: target, span: failing.consoleLines!))
        #expect(lines.last?.contains("not ok") == true && lines.last?.contains(failing.name) == true)
        #expect(html.contains(Markup.escape(lines.last!)))
        #expect(html.contains("<svg") && html.contains("alloc p50"))
        #expect(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("url("), "self-contained: nothing fetched")
        #expect(html.contains("console.log is not beside this report"), "targets whose logs were not kept say so")
    }

    @Test("KCIDB never says FAIL for the harness's own trouble")
    func kcidbStatuses() throws {
        var report = try ReportFixture.load(ReportFixture.all)
        let index = try #require(report.targets.firstIndex { $0.id == "arm-direct" })
        report.targets[index].status = .error
        report.targets[index].suites = report.targets[index].suites.map { suite in
            var suite = suite
            suite.tests = suite.tests.map { var test = $0; test.status = .notRun; return test }
            return suite
        }
        let data = try KCIDBReport.render(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tests = try #require(object["tests"] as? [[String: Any]])
        let own = tests.filter { ($0["build_id"] as? String)?.hasSuffix(":arm-direct") == true }
        #expect(own.first { $0["path"] as? String == "dma_harness" }?["status"] as? String == "MISS")
        #expect(own.filter { ($0["path"] as? String)?.hasPrefix("dma_harness.dma_") == true }.allSatisfy { $0["status"] as? String == "MISS" })
        #expect(tests.first { ($0["build_id"] as? String)?.hasSuffix(":arm-iommu") == true }?["status"] as? String == "SKIP")
        #expect(throws: HarnessError.self) { try KCIDBReport.render(report, origin: "Bad Origin") }
    }

    @Test("comparing real runs: cma=0 fixes arm64-direct; init_on_alloc=1 brings the violations back and slows alloc")
    func comparison() throws {
        let all = try ReportFixture.load(ReportFixture.all), cma0 = try ReportFixture.load(ReportFixture.cma0)
        let slow = try ReportFixture.load(ReportFixture.initOnAlloc)
        var base = all
        base.targets = all.targets.filter { $0.id == "arm64-direct" }
        let fixed = ReportComparison.compare(base: base, new: cma0, baseName: "1", newName: "2")
        #expect(!fixed.regressed)
        #expect(fixed.changes.contains { $0.kind == .fixed && $0.subject == "attribute:WRITE_COMBINE" })
        #expect(fixed.changes.contains { $0.kind == .fixed && $0.subject == "target" && $0.new == "passed" })

        let worse = ReportComparison.compare(base: cma0, new: slow, baseName: "2", newName: "3")
        #expect(worse.regressed)
        #expect(worse.changes.contains { $0.kind == .newViolation && $0.subject == "dma_alloc.none_2097152" })
        let timing = try #require(worse.changes.first { $0.subject == "dma_bench.none_16384_gfp_kernel:alloc_p50_ns" })
        #expect(timing.kind == .timingRegression && timing.regression)
        // A threshold above every ratio, and a floor above every delta, silence the timings.
        let lenient = ReportComparison.compare(base: cma0, new: slow, baseName: "2", newName: "3",
                                               noise: .init(threshold: 100, floorNanoseconds: 1e9))
        #expect(!lenient.changes.contains { $0.kind == .timingRegression })
        // Waived in NEW: listed, not a regression.
        let waivedNew = Waivers.apply([Waiver(target: "*", test: "*", reason: "known")], file: "w", to: slow)
        let waived = ReportComparison.compare(base: cma0, new: waivedNew, baseName: "2", newName: "3",
                                              noise: .init(threshold: 100, floorNanoseconds: 1e9))
        #expect(!waived.regressed)
        #expect(waived.changes.contains { $0.kind == .newViolation && $0.waived == "known" })
        #expect(ComparisonMarkdown.render(worse).contains("**Verdict: regressed**"))
    }
}
