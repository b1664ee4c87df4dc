import Foundation

/// A report as JUnit XML, for CI systems that show test results: one `<testsuite>` per target,
/// one `<testcase>` per KTAP test, one per finding by root cause, and one for the boot itself.
///
/// Mapping (README, "Reports for reviewers and CI"): a failing test is a `<failure>` carrying its
/// evidence; a waived one is `<skipped>` with `XFAIL: reason`; a KTAP skip is `<skipped>`; a test
/// the guest never reached is an `<error>`. The boot case fails when the guest crashed or hung,
/// errs when the host could not do its part or the run was interrupted, and is skipped for an
/// unsupported target.
public enum JUnitReport {
    /// The counts the XML carries, derived from the report alone, so a reader of the XML can be
    /// checked against them.
    public struct Counts: Equatable, Sendable {
        public var tests = 0, failures = 0, errors = 0, skipped = 0
    }

    public static func counts(_ report: RunReport) -> Counts {
        report.targets.reduce(into: Counts()) { total, target in
            let own = counts(report, target)
            total.tests += own.tests
            total.failures += own.failures
            total.errors += own.errors
            total.skipped += own.skipped
        }
    }

    static func counts(_ report: RunReport, _ target: TargetReport) -> Counts {
        var counts = Counts()
        let findings = target.contractFindings ?? []
        counts.tests = target.allTests.count + 1 + findings.count
        for finding in findings where finding.tier.failsTarget {
            if report.waiver(target: target.id, finding: finding.id) != nil { counts.skipped += 1 } else { counts.failures += 1 }
        }
        for test in target.allTests {
            switch test.status {
            case .fail: if report.waiver(target: target.id, test: test.id) != nil { counts.skipped += 1 } else { counts.failures += 1 }
            case .skip: counts.skipped += 1
            case .notRun: counts.errors += 1
            case .pass: break
            }
        }
        switch bootOutcome(target) {
        case .failure: counts.failures += 1
        case .error: counts.errors += 1
        case .skipped: counts.skipped += 1
        case .passed: break
        }
        return counts
    }

    enum BootOutcome { case passed, failure, error, skipped }

    static func bootOutcome(_ target: TargetReport) -> BootOutcome {
        switch target.status {
        case .passed, .failed: return .passed
        case .crashed, .timedOut: return .failure
        case .error, .interrupted: return .error
        case .unsupported: return .skipped
        }
    }

    public static func render(_ report: RunReport) -> String {
        let total = counts(report)
        let seconds = report.targets.reduce(0.0) { $0 + $1.stages.reduce(0) { $0 + $1.seconds } }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites" + Markup.attributes([
            ("name", "dma-harness"), ("tests", "\(total.tests)"), ("failures", "\(total.failures)"),
            ("errors", "\(total.errors)"), ("skipped", "\(total.skipped)"), ("time", seconds3(seconds)),
        ]) + ">\n"
        for target in report.targets { xml += suite(report, target) }
        xml += "</testsuites>\n"
        return xml
    }

    static func suite(_ report: RunReport, _ target: TargetReport) -> String {
        let own = counts(report, target)
        let seconds = target.stages.reduce(0) { $0 + $1.seconds }
        var xml = "  <testsuite" + Markup.attributes([
            ("name", target.id), ("tests", "\(own.tests)"), ("failures", "\(own.failures)"), ("errors", "\(own.errors)"),
            ("skipped", "\(own.skipped)"), ("time", seconds3(seconds)),
            ("timestamp", ISO8601DateFormatter().string(from: report.run.startedAt)),
            ("hostname", report.run.host.hostname),
        ]) + ">\n"
        var properties = [("arch", target.arch), ("variant", target.variant), ("machine", target.machine),
                          ("cpu", target.cpu), ("status", target.status.rawValue)]
        if let kernel = target.kernel {
            properties.append(("kernel", kernel.release))
            properties.append(("kernel_arguments", kernel.kernelArguments.joined(separator: " ")))
        }
        if let console = target.logs.console { properties.append(("console_log", console)) }
        for attribute in target.attributes {
            properties.append(("verdict.\(attribute.attribute)", attribute.cell))
            properties.append(("effect.\(attribute.attribute)", "\(attribute.effect.class.rawValue): \(attribute.effect.measurement)"))
        }
        xml += "    <properties>\n"
        xml += properties.map { "      <property" + Markup.attributes([("name", $0.0), ("value", $0.1)]) + "/>\n" }.joined()
        xml += "    </properties>\n"
        xml += bootCase(target)
        for finding in target.contractFindings ?? [] { xml += findingCase(report, target, finding) }
        for test in target.allTests { xml += testCase(report, target, test) }
        xml += "  </testsuite>\n"
        return xml
    }

    static func bootCase(_ target: TargetReport) -> String {
        let seconds = target.boot?.guestSeconds ?? 0
        let open = "    <testcase" + Markup.attributes([("classname", "\(target.id).harness"), ("name", "boot"),
                                                       ("time", seconds3(seconds))])
        let reason = target.reason ?? target.status.rawValue
        switch bootOutcome(target) {
        case .passed:
            return open + "/>\n"
        case .skipped:
            return open + ">\n      <skipped" + Markup.attributes([("message", reason)]) + "/>\n    </testcase>\n"
        case .failure, .error:
            let tag = bootOutcome(target) == .failure ? "failure" : "error"
            var body = [reason]
            for finding in target.findings where finding.kind != .warning {
                body.append("console.log line \(finding.line): \(finding.summary)")
                body += finding.excerpt.prefix(12)
            }
            return open + ">\n      <\(tag)" + Markup.attributes([("message", reason), ("type", target.status.rawValue)])
                + ">" + Markup.escape(body.joined(separator: "\n")) + "</\(tag)>\n    </testcase>\n"
        }
    }

    static func testCase(_ report: RunReport, _ target: TargetReport, _ test: TestResult) -> String {
        let nanoseconds = test.nanoseconds("alloc_ns") ?? test.nanoseconds("transfer_ns") ?? 0
        let open = "    <testcase" + Markup.attributes([("classname", "\(target.id).\(test.suite)"), ("name", test.name),
                                                       ("time", seconds3(nanoseconds / 1e9))])
        switch test.status {
        case .pass:
            return open + "/>\n"
        case .skip:
            return open + ">\n      <skipped" + Markup.attributes([("message", test.directive ?? "SKIP")]) + "/>\n    </testcase>\n"
        case .notRun:
            let message = "not run: the guest stopped before this test (\(target.status.rawValue))"
            return open + ">\n      <error" + Markup.attributes([("message", message), ("type", "not_run")]) + "/>\n    </testcase>\n"
        case .fail:
            if let waiver = report.waiver(target: target.id, test: test.id) {
                return open + ">\n      <skipped" + Markup.attributes([("message", "XFAIL: \(waiver.reason)")]) + "/>\n    </testcase>\n"
            }
            let attributes = (target.attributes + (target.combinations ?? [])).filter { verdict in
                verdict.verdict == .violated && verdict.added.contains { $0.tests.contains(test.id) }
            }
            let type = attributes.isEmpty ? "failed" : "violated " + attributes.map(\.attribute).joined(separator: ",")
            var body = ["parameters: \(test.parameterSummary)"]
            body.append("observed: " + test.observed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            if let lines = test.consoleLines, let console = target.logs.console {
                body.append("evidence: \(console) lines \(lines[0])-\(lines.last!)")
            }
            body += test.log
            return open + ">\n      <failure" + Markup.attributes([("message", test.evidenceSummary.isEmpty ? "not ok" : test.evidenceSummary),
                                                                    ("type", type)])
                + ">" + Markup.escape(body.joined(separator: "\n")) + "</failure>\n    </testcase>\n"
        }
    }

    /// A finding by root cause as a test case: a failure when its tier fails the target, else
    /// passed with the finding in its output (a de-facto finding is reported, not failed).
    static func findingCase(_ report: RunReport, _ target: TargetReport, _ finding: ContractFinding) -> String {
        let open = "    <testcase" + Markup.attributes([("classname", "\(target.id).findings"), ("name", finding.id), ("time", "0.000")])
        var body = ["\(finding.title) (\(finding.tier.rawValue))", "promise: \(MarkdownReport.citation(finding.promise))"]
        if let cause = finding.cause { body.append("cause: \(cause.file) \(cause.function)(): \(cause.mechanism)") }
        body += finding.evidence.prefix(10).map { "\($0.test) \($0.check): \($0.detail)" }
        let text = Markup.escape(body.joined(separator: "\n"))
        guard finding.tier.failsTarget else {
            return open + ">\n      <system-out>" + text + "</system-out>\n    </testcase>\n"
        }
        if let waiver = report.waiver(target: target.id, finding: finding.id) {
            return open + ">\n      <skipped" + Markup.attributes([("message", "XFAIL: \(waiver.reason)")]) + "/>\n    </testcase>\n"
        }
        return open + ">\n      <failure" + Markup.attributes([("message", finding.title), ("type", finding.tier.rawValue)])
            + ">" + text + "</failure>\n    </testcase>\n"
    }

    static func seconds3(_ value: Double) -> String { String(format: "%.3f", value) }
}
