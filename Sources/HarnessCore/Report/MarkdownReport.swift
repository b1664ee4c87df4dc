import Foundation

/// A report as Markdown, ready to paste into a review: per variant the arch x attribute matrix,
/// then every violation with the tests behind it, what the guest observed, and a link to the
/// console lines. Links are relative to the report's folder, so the file works beside report.json.
public enum MarkdownReport {
    /// How many evidence tests a violation lists before it says "and N more".
    static let evidenceShown = 6

    public static func render(_ report: RunReport) -> String {
        var out = "# dma-harness report\n\n"
        out += runLine(report) + "\n\n"
        out += countsLine(report) + "\n"
        for variant in variants(of: report) {
            out += "\n## Variant \(MarkdownText.code(variant))\n\n"
            out += matrix(report, variant: variant)
            let violating = report.targets.filter { $0.variant == variant && hasFindings($0) }
            for target in violating {
                out += "\n" + violations(report, target: target)
            }
        }
        let lines = KernelLineChanges(report: report)
        if !lines.groups.isEmpty { out += "\n" + kernelLineSection(lines) }
        if let waivers = report.waivers {
            out += "\n" + waiverSection(waivers)
        }
        return out
    }

    /// "What changed between 6.1, 6.12 and 7.2": per arch and variant, each attribute's cell and
    /// each finding's tier on every kernel line; a row whose lines differ is marked.
    static func kernelLineSection(_ changes: KernelLineChanges) -> String {
        var out = "## What changed between kernel lines\n"
        for group in changes.groups {
            out += "\n### \(MarkdownText.code("\(group.arch)-\(group.variant)")): \(cell(KernelLineChanges.versions(of: group)))\n\n"
            let header = group.lines.map { "\(cell($0.suite)) \(cell($0.version)) (\($0.status.rawValue))" }
            out += "| attribute | " + header.joined(separator: " | ") + " | changed |\n"
            out += "|" + String(repeating: " --- |", count: group.lines.count + 2) + "\n"
            for row in group.attributes {
                out += "| \(MarkdownText.tableCode(row.subject)) | " + row.values.map { cell($0 ?? "–") }.joined(separator: " | ")
                    + " | \(row.changed ? "**changed**" : "") |\n"
            }
            guard !group.findings.isEmpty else {
                out += "\nNo finding on any line.\n"
                continue
            }
            out += "\n| finding | " + header.joined(separator: " | ") + " | changed |\n"
            out += "|" + String(repeating: " --- |", count: group.lines.count + 2) + "\n"
            for row in group.findings {
                out += "| \(MarkdownText.tableCode(row.subject)) | " + row.values.map { cell($0 ?? "absent") }.joined(separator: " | ")
                    + " | \(row.changed ? "**changed**" : "") |\n"
            }
        }
        return out
    }

    /// A matrix row's name: the arch, with its kernel line when the report holds several.
    static func rowLabel(_ report: RunReport, _ target: TargetReport) -> String {
        let lines = Set(report.targets.filter { $0.kernel != nil }.map { KernelLineChanges.suite(of: $0) ?? "user" })
        guard lines.count > 1 else { return target.arch }
        let line = KernelLineChanges.suite(of: target) ?? "user kernel"
        return "\(target.arch) \(line)" + (target.kernel?.version.map { " \($0)" } ?? "")
    }

    /// The run's facts in plain words; each format escapes them its own way.
    static func runFacts(_ report: RunReport) -> [String] {
        let run = report.run
        var facts = ["harness \(run.harnessVersion)", "started \(iso(run.startedAt))",
                     "host \(run.host.hostname) (\(run.host.cpus) CPUs)"]
        if let qemu = run.host.qemuVersion { facts.append(qemu) }
        if let libvirt = run.host.libvirtVersion { facts.append("libvirt \(libvirt)") }
        if let shards = report.mergedFrom { facts.append("merged from \(shards.count) shard reports") }
        if let hosts = run.hosts {
            facts.append("libvirt hosts: " + hosts.map { host in
                host.uri + (host.lost.map { " (lost: \($0))" } ?? "") + (host.unreachable.map { " (unreachable: \($0))" } ?? "")
            }.joined(separator: ", "))
        }
        let clocks = Set(report.targets.filter { $0.boot != nil }.map { ($0.clock ?? .realtime).unit })
        if !clocks.isEmpty { facts.append("in-guest times in " + clocks.sorted().joined(separator: ", ")) }
        if let interruption = run.interruption { facts.append(interruption) }
        return facts
    }

    static func runLine(_ report: RunReport) -> String {
        runFacts(report).map(cell).joined(separator: " · ")
    }

    static func countsLine(_ report: RunReport) -> String {
        var counts: [String: Int] = [:]
        for target in report.targets {
            let key = report.isWaived(target) ? "passed with waivers" : target.status.rawValue
            counts[key, default: 0] += 1
        }
        let parts = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        return "**\(report.targets.count) targets**: " + parts.joined(separator: ", ")
    }

    /// Variants in the order the planner knows them, then any other.
    static func variants(of report: RunReport) -> [String] {
        let present = Set(report.targets.map(\.variant))
        return TargetPlanner.knownVariants.filter(present.contains) + present.subtracting(TargetPlanner.knownVariants).sorted()
    }

    static func matrix(_ report: RunReport, variant: String) -> String {
        let columns = ConformanceAttributes.columns
        var out = "| arch | status | tests | " + columns.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: " --- |", count: columns.count + 3) + "\n"
        for target in report.targets where target.variant == variant {
            let status = report.isWaived(target) ? "passed (xfail)" : target.status.rawValue
            var row = [MarkdownText.tableCode(rowLabel(report, target)), status, "\(target.summary.passed)/\(target.summary.total)"]
            for column in columns {
                guard let attribute = target.attributes.first(where: { $0.attribute == column }) else {
                    row.append("–")
                    continue
                }
                row.append(classCell(attribute, waived: report.waiver(target: target.id, attribute: column) != nil))
            }
            out += "| " + row.joined(separator: " | ") + " |\n"
        }
        for target in report.targets where target.variant == variant && target.status == .unsupported {
            out += "\n\(MarkdownText.code(target.id)) is unsupported: \(cell(target.reason ?? "see the profile"))\n"
        }
        return out
    }

    /// The verdict's cell text; a violation in bold, or `xfail` when a waiver expects it.
    static func classCell(_ attribute: AttributeVerdict, waived: Bool) -> String {
        switch (attribute.verdict, waived) {
        case (.violated, true): return "xfail"
        case (.violated, false): return "**\(cell(attribute.cell))**"
        default: return cell(attribute.cell)
        }
    }

    static func hasFindings(_ target: TargetReport) -> Bool {
        ![.passed, .unsupported].contains(target.status) || !target.failingTests.isEmpty
            || !(target.contractFindings ?? []).isEmpty
    }

    static func violations(_ report: RunReport, target: TargetReport) -> String {
        var out = "### \(MarkdownText.code(target.id)): \(target.status.rawValue)"
        if report.isWaived(target) { out += " (every failure waived)" }
        out += "\n\n"
        if let reason = target.reason { out += "\(cell(reason))\n\n" }
        let console = target.logs.console
        var explained = Set<String>()
        for attribute in target.attributes + (target.combinations ?? []) where attribute.verdict == .violated {
            let waiver = report.waiver(target: target.id, attribute: attribute.attribute)
            out += "- **\(cell(attribute.attribute))** \(cell(attribute.cell))"
            if let waiver { out += " — *waived (XFAIL): \(cell(waiver.reason))*" }
            out += "\n"
            if attribute.ownContract.state == .broken {
                out += "  - own contract broken: \(cell(attribute.ownContract.promise)): \(cell(attribute.ownContract.basis))\n"
            }
            for added in attribute.added {
                out += "  - added \(code(added.check)) (\(added.tier.rawValue), finding \(code(added.finding))), where the baseline passes it:\n"
                let tests = added.tests.compactMap { id in target.allTests.first { $0.id == id } }
                explained.formUnion(tests.map(\.id))
                out += evidence(report, target: target, tests: tests, console: console, indent: "    ")
            }
        }
        let findings = target.contractFindings ?? []
        if !findings.isEmpty {
            out += "\n" + findingsSection(report, target: target, findings: findings)
            explained.formUnion(findings.flatMap(\.tests))
        }
        let others = target.failingTests.filter { !explained.contains($0.id) }
        if !others.isEmpty {
            out += "- other failing tests:\n"
            out += evidence(report, target: target, tests: others, console: console)
        }
        for finding in target.findings where finding.kind != .warning {
            out += "- console: \(finding.kind.rawValue) at \(link(console, line: finding.line, text: "line \(finding.line)")): \(code(finding.summary))\n"
        }
        if let vacuous = target.vacuous, !vacuous.isEmpty {
            out += "\nNot evidence on this host (\(cell(target.accelerator ?? "tcg"))):\n"
            for check in vacuous {
                out += "- \(cell(check.claim)): `\(check.label.rawValue)`, \(check.tests.count) test(s); \(cell(check.reason))\n"
            }
        }
        if let console { out += "\nLogs: [console.log](\(MarkdownText.destination(console)))" }
        if let qemu = target.logs.qemu { out += ", [qemu.log](\(MarkdownText.destination(qemu)))" }
        if target.logs.console != nil { out += "\n" }
        return out
    }

    /// The findings by root cause: the baseline's first, then those only attributes show.
    static func findingsSection(_ report: RunReport, target: TargetReport, findings: [ContractFinding]) -> String {
        var out = ""
        for (title, group) in [("Baseline findings", findings.filter(\.inBaseline)), ("Findings with attributes only", findings.filter { !$0.inBaseline })]
            where !group.isEmpty {
            out += "#### \(title)\n\n"
            for finding in group {
                out += "- \(code(finding.id)) (\(finding.tier.rawValue)): \(cell(finding.title)); checks \(finding.checks.map(code).joined(separator: ", ")); seen with \(finding.attributes.map(cell).joined(separator: ", "))\n"
                out += "  - promise: \(cell(citation(finding.promise)))\n"
                if let cause = finding.cause {
                    out += "  - cause: \(code(cause.file)) \(code(cause.function + "()")): \(cell(cause.mechanism))\n"
                } else {
                    out += "  - cause: not identified by the rules\n"
                }
                for line in finding.evidence.prefix(3) {
                    // The guest's own words in a code span, then what the rule read from them.
                    let test = target.allTests.first { $0.id == line.test }
                    let span = test?.consoleLines.map { "lines \($0[0])–\($0.last!)" } ?? "console.log"
                    out += "  - \(code(line.test)) \(code(line.check))"
                    if let summary = test?.evidenceSummary, !summary.isEmpty { out += ": \(code(summary))" }
                    if line.detail != test?.evidenceSummary { out += "; \(cell(line.detail))" }
                    out += " — \(link(target.logs.console, line: test?.consoleLines?.first, text: span))\n"
                }
                if finding.evidence.count > 3 { out += "  - … and \(finding.evidence.count - 3) more (see report.json)\n" }
            }
            out += "\n"
        }
        return out
    }

    /// `document § section: "text"`, or the de-facto basis.
    static func citation(_ promise: PromiseCitation) -> String {
        guard let document = promise.document else { return promise.text }
        return "\(document) § \(promise.section ?? ""): \u{201C}\(promise.text)\u{201D}"
    }

    static func evidence(_ report: RunReport, target: TargetReport, tests: [TestResult], console: String?,
                         indent: String = "  ") -> String {
        var out = ""
        for test in tests.prefix(evidenceShown) {
            let lines = test.consoleLines.map { "lines \($0[0])–\($0.last!)" } ?? "console.log"
            out += "\(indent)- \(code(test.id)) (\(cell(test.parameterSummary))): \(code(test.evidenceSummary)) — \(link(console, line: test.consoleLines?.first, text: lines))"
            if let waiver = report.waiver(target: target.id, test: test.id) { out += " — *XFAIL: \(cell(waiver.reason))*" }
            out += "\n"
        }
        if tests.count > evidenceShown { out += "\(indent)- … and \(tests.count - evidenceShown) more (see report.json)\n" }
        return out
    }

    static func waiverSection(_ outcome: WaiverOutcome) -> String {
        var out = "## Waivers (\(code(outcome.file)))\n\n"
        let tests = outcome.applied.filter { $0.kind == .test }.count
        let attributes = outcome.applied.filter { $0.kind == .attribute }.count
        out += "\(tests) failing test(s) and \(attributes) violated attribute(s) expected (XFAIL).\n"
        for waiver in outcome.stale {
            out += "- **stale**: \(code(waiver.target)) \(cell(waiver.test ?? waiver.attribute ?? "")): no longer occurs (\(cell(waiver.reason)))\n"
        }
        for waiver in outcome.expired {
            out += "- **expired** \(cell(waiver.expires ?? "")): \(code(waiver.target)) \(cell(waiver.test ?? waiver.attribute ?? "")) waives nothing (\(cell(waiver.reason)))\n"
        }
        return out
    }

    static func link(_ console: String?, line: Int?, text: String) -> String {
        guard let console else { return text }
        return "[\(text)](\(MarkdownText.destination(console))\(line.map { "#L\($0)" } ?? ""))"
    }

    /// Guest and path text in a table cell or a line (`MarkdownText.prose`).
    static func cell(_ text: String) -> String { MarkdownText.prose(text) }

    /// Guest and path text as a code span, fences included (`MarkdownText.code`).
    static func code(_ text: String) -> String { MarkdownText.code(text) }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
