import Foundation

/// A report as one self-contained HTML file (no network: styles, script and charts inline): per
/// variant the arch x attribute matrix, colour-coded by class; each cell opens the tests behind it,
/// what the guest observed and the console lines each result came from; `dma_bench` timings as
/// SVG charts. Every string from a guest, a host or a path is escaped (`Markup`).
public enum HTMLReport {
    /// Tests per cell that get their console lines inlined (failing ones first), to bound the size.
    static let excerptsPerCell = 12

    public static func render(_ report: RunReport, reportFolder: URL) -> String {
        let consoles = ConsoleExcerpts(reportFolder: reportFolder)
        var body = "<h1>dma-harness report</h1>\n"
        body += "<p class=\"run\">" + Markup.escape(MarkdownReport.runFacts(report).joined(separator: " · ")) + "</p>\n"
        body += "<p class=\"counts\">" + Markup.escape(MarkdownReport.countsLine(report).replacingOccurrences(of: "**", with: "")) + "</p>\n"
        body += legend()
        for variant in MarkdownReport.variants(of: report) {
            body += "<h2>Variant <code>\(Markup.escape(variant))</code></h2>\n"
            body += matrix(report, variant: variant)
        }
        let lines = KernelLineChanges(report: report)
        if !lines.groups.isEmpty { body += kernelLineSection(lines) }
        body += "<h2>Cells</h2>\n<p>Each matrix cell links here: the tests the class rests on, what the guest observed, and its console lines.</p>\n"
        for target in report.targets where target.status != .unsupported {
            body += targetSection(report, target, consoles: consoles)
        }
        if let waivers = report.waivers { body += waiverSection(waivers) }
        return page(title: "dma-harness report \(MarkdownReport.iso(report.run.startedAt))", body: body)
    }

    /// "What changed between kernel lines", as in the Markdown; changed rows get the `changed` class.
    static func kernelLineSection(_ changes: KernelLineChanges) -> String {
        var html = "<h2>What changed between kernel lines</h2>\n"
        for group in changes.groups {
            html += "<h3><code>\(Markup.escape("\(group.arch)-\(group.variant)"))</code>: \(Markup.escape(KernelLineChanges.versions(of: group)))</h3>\n"
            let header = group.lines.map { "<th>\(Markup.escape("\($0.suite) \($0.version)"))<br><small>\(Markup.escape($0.status.rawValue))</small></th>" }.joined()
            for (title, rows, absent) in [("attribute", group.attributes, "–"), ("finding", group.findings, "absent")] where !rows.isEmpty {
                html += "<table class=\"lines\">\n<thead><tr><th>\(title)</th>\(header)</tr></thead>\n<tbody>\n"
                for row in rows {
                    html += "<tr\(row.changed ? " class=\"changed\"" : "")><th scope=\"row\"><code>\(Markup.escape(row.subject))</code></th>"
                    html += row.values.map { "<td>\(Markup.escape($0 ?? absent))</td>" }.joined() + "</tr>\n"
                }
                html += "</tbody></table>\n"
            }
        }
        return html
    }

    static func matrix(_ report: RunReport, variant: String) -> String {
        let columns = ConformanceAttributes.columns
        var html = "<table class=\"matrix\">\n<thead><tr><th>arch</th><th>status</th><th>tests</th>"
        html += columns.map { "<th>\(Markup.escape(SummaryTable.abbreviation($0)))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for target in report.targets where target.variant == variant {
            let status = report.isWaived(target) ? "passed (xfail)" : target.status.rawValue
            html += "<tr><th scope=\"row\">\(Markup.escape(MarkdownReport.rowLabel(report, target)))</th>"
            html += "<td class=\"status s-\(Markup.escape(target.status.rawValue))\" title=\"\(Markup.escape(target.reason ?? ""))\">\(Markup.escape(status))</td>"
            html += "<td>\(target.summary.passed)/\(target.summary.total)</td>"
            for column in columns {
                guard let attribute = target.attributes.first(where: { $0.attribute == column }) else {
                    html += "<td class=\"c-none\">–</td>"
                    continue
                }
                let waived = attribute.verdict == .violated && report.waiver(target: target.id, attribute: column) != nil
                let text = waived ? "xfail" : attribute.cell
                html += "<td class=\"c-\(badgeClass(attribute, waived: waived))\"><a href=\"#\(anchor(target.id, column))\" title=\"\(Markup.escape(attribute.effect.measurement + ": " + attribute.effect.basis))\">\(Markup.escape(text))</a></td>"
            }
            html += "</tr>\n"
        }
        html += "</tbody></table>\n"
        for target in report.targets where target.variant == variant && target.status == .unsupported {
            html += "<p class=\"unsupported\"><code>\(Markup.escape(target.id))</code> unsupported: \(Markup.escape(target.reason ?? ""))</p>\n"
        }
        return html
    }

    static func targetSection(_ report: RunReport, _ target: TargetReport, consoles: ConsoleExcerpts) -> String {
        var html = "<section class=\"target\" id=\"\(anchor(target.id, nil))\">\n"
        html += "<h3><code>\(Markup.escape(target.id))</code> <span class=\"s-\(Markup.escape(target.status.rawValue))\">\(Markup.escape(target.status.rawValue))</span></h3>\n"
        var facts = ["\(target.machine) / \(target.cpu)"]
        if let kernel = target.kernel { facts.append("kernel \(kernel.release)"); facts.append("cmdline: \(kernel.kernelArguments.joined(separator: " "))") }
        if let boot = target.boot {
            facts.append(String(format: "guest %.1f s, %@", boot.guestSeconds, boot.ending.rawValue))
            if let split = boot.timeline?.split { facts.append(split) }
        }
        if report.run.hosts != nil, let host = target.host { facts.append("on \(host)") }
        for loss in target.hostLosses ?? [] { facts.append("moved from \(loss.host), lost: \(loss.reason)") }
        html += "<p class=\"facts\">\(Markup.escape(facts.joined(separator: " · ")))</p>\n"
        if let reason = target.reason { html += "<p class=\"reason\">\(Markup.escape(reason))</p>\n" }
        html += logLinks(target, consoles: consoles)
        for finding in target.findings where finding.kind != .warning {
            html += "<details class=\"finding\" open><summary>\(Markup.escape(finding.kind.rawValue)) at console line \(finding.line): \(Markup.escape(finding.summary))</summary>"
            html += "<pre>\(Markup.escape(finding.excerpt.joined(separator: "\n")))</pre></details>\n"
        }
        for attribute in target.attributes + (target.combinations ?? []).filter({ $0.verdict == .violated }) {
            html += cell(report, target, attribute, consoles: consoles)
        }
        html += findingsSection(target)
        if let vacuous = target.vacuous, !vacuous.isEmpty {
            html += "<h4>Not evidence on this host (\(Markup.escape(target.accelerator ?? "tcg")))</h4>\n<ul class=\"vacuous\">\n"
            for check in vacuous {
                html += "<li><span class=\"tag c-untested\">\(Markup.escape(check.label.rawValue))</span> \(Markup.escape(check.claim)): \(Markup.escape(check.reason)) (\(check.tests.count) test\(check.tests.count == 1 ? "" : "s"))</li>\n"
            }
            html += "</ul>\n"
        }
        let timings = BenchTiming.of(target)
        if !timings.isEmpty {
            html += "<h4>dma_bench: in-guest latency</h4>\n" + TimingChart.svg(timings, title: "\(target.id) dma_bench latency")
        }
        html += "</section>\n"
        return html
    }

    /// The target's findings by root cause, each with its citation, its cause and its evidence.
    static func findingsSection(_ target: TargetReport) -> String {
        let findings = target.contractFindings ?? []
        guard !findings.isEmpty else { return "" }
        var html = ""
        for (title, group) in [("Baseline findings", findings.filter(\.inBaseline)), ("Findings with attributes only", findings.filter { !$0.inBaseline })]
            where !group.isEmpty {
            html += "<h4>\(title)</h4>\n"
            for finding in group {
                html += "<div class=\"cfinding\" id=\"\(anchor(target.id, "finding-" + finding.id))\"><p><code>\(Markup.escape(finding.id))</code> "
                html += "<span class=\"tag tier-\(finding.tier.rawValue)\">\(Markup.escape(finding.tier.rawValue))</span> \(Markup.escape(finding.title))"
                html += " — checks \(Markup.escape(finding.checks.joined(separator: ", "))); seen with \(Markup.escape(finding.attributes.joined(separator: ", ")))</p>\n"
                html += "<p class=\"promise\">Promise: \(Markup.escape(MarkdownReport.citation(finding.promise)))</p>\n"
                if let cause = finding.cause {
                    html += "<p class=\"cause\">Cause: <code>\(Markup.escape(cause.file))</code> <code>\(Markup.escape(cause.function))()</code>: \(Markup.escape(cause.mechanism))</p>\n"
                }
                html += "<ul>" + finding.evidence.prefix(5).map { "<li><code>\(Markup.escape($0.test))</code> <code>\(Markup.escape($0.check))</code>: \(Markup.escape($0.detail))</li>" }.joined()
                if finding.evidence.count > 5 { html += "<li>… and \(finding.evidence.count - 5) more</li>" }
                html += "</ul></div>\n"
            }
        }
        return html
    }

    /// The badge colour: the verdict when it is not `conforming`, else the effect.
    static func badgeClass(_ attribute: AttributeVerdict, waived: Bool) -> String {
        if waived { return "xfail" }
        return attribute.verdict == .conforming ? attribute.effect.class.rawValue : attribute.verdict.rawValue
    }

    static func cell(_ report: RunReport, _ target: TargetReport, _ attribute: AttributeVerdict, consoles: ConsoleExcerpts) -> String {
        let waiver = report.waiver(target: target.id, attribute: attribute.attribute)
        let klass = badgeClass(attribute, waived: attribute.verdict == .violated && waiver != nil)
        let tests = attribute.evidence.compactMap { id in target.allTests.first { $0.id == id } }
        var html = "<details class=\"cell\" id=\"\(anchor(target.id, attribute.attribute))\">"
        html += "<summary><span class=\"tag c-\(klass)\">\(Markup.escape(attribute.cell))</span> <b>\(Markup.escape(attribute.attribute))</b>: "
        html += "\(Markup.escape(attribute.effect.basis)) (\(tests.count) test\(tests.count == 1 ? "" : "s"))</summary>\n"
        html += "<dl class=\"verdict\"><dt>effect</dt><dd>\(Markup.escape(attribute.effect.class.rawValue)), measured by \(Markup.escape(attribute.effect.measurement))</dd>"
        html += "<dt>own contract</dt><dd>\(Markup.escape(attribute.ownContract.state.rawValue)): \(Markup.escape(attribute.ownContract.promise))\(attribute.ownContract.basis.isEmpty ? "" : " (" + Markup.escape(attribute.ownContract.basis) + ")")</dd>"
        html += "<dt>added</dt><dd>\(attribute.added.isEmpty ? "none" : attribute.added.map { Markup.escape("\($0.check) (\($0.tier.rawValue), \($0.finding)): \($0.tests.joined(separator: ", "))") }.joined(separator: "<br>"))</dd>"
        html += "<dt>inherited</dt><dd>\(attribute.inherited.isEmpty ? "none" : attribute.inherited.map { "<a href=\"#\(anchor(target.id, "finding-" + $0))\">\(Markup.escape($0))</a>" }.joined(separator: ", "))</dd></dl>\n"
        if let waiver { html += "<p class=\"waived\">Waived (XFAIL): \(Markup.escape(waiver.reason))</p>\n" }
        html += "<table class=\"tests\"><thead><tr><th>test</th><th>status</th><th>asked</th><th>observed</th></tr></thead><tbody>\n"
        for test in tests {
            let observed = test.observed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            html += "<tr class=\"t-\(Markup.escape(test.status.rawValue))\"><td><code>\(Markup.escape(test.id))</code></td>"
            html += "<td>\(Markup.escape(test.status.rawValue))</td><td>\(Markup.escape(test.parameterSummary))</td>"
            html += "<td class=\"observed\">\(Markup.escape(observed))</td></tr>\n"
        }
        html += "</tbody></table>\n"
        let shown = (tests.filter { $0.status == .fail } + tests.filter { $0.status != .fail }).prefix(excerptsPerCell)
        for test in shown {
            guard let span = test.consoleLines, let lines = consoles.lines(of: target, span: span) else { continue }
            html += "<div class=\"excerpt\"><div class=\"where\">\(Markup.escape(test.id)): \(Markup.escape(target.logs.console ?? "")) lines \(span[0])–\(span[1])</div>"
            html += "<pre>\(Markup.escape(lines.joined(separator: "\n")))</pre></div>\n"
        }
        if tests.count > shown.count { html += "<p class=\"more\">Console lines shown for \(shown.count) of \(tests.count) tests; every test's span is in report.json.</p>\n" }
        html += "</details>\n"
        return html
    }

    static func logLinks(_ target: TargetReport, consoles: ConsoleExcerpts) -> String {
        let logs = [("console.log", target.logs.console), ("qemu.log", target.logs.qemu),
                    ("domain.xml", target.logs.domainXML), ("module-build.log", target.logs.moduleBuild)]
        let links = logs.compactMap { name, path in path.map { "<a href=\"\(Markup.relativeHref($0))\">\(name)</a>" } }
        guard !links.isEmpty else { return "" }
        let missing = target.logs.console != nil && !consoles.hasConsole(target) ? " <span class=\"missing\">(console.log is not beside this report: no excerpts)</span>" : ""
        return "<p class=\"logs\">Logs: " + links.joined(separator: " · ") + missing + "</p>\n"
    }

    static func waiverSection(_ outcome: WaiverOutcome) -> String {
        var html = "<h2>Waivers</h2>\n<p>From <code>\(Markup.escape(outcome.file))</code>: \(outcome.applied.count) finding(s) expected.</p>\n<ul>\n"
        for waiver in outcome.stale {
            html += "<li class=\"stale\">stale: <code>\(Markup.escape(waiver.target))</code> \(Markup.escape(waiver.test ?? waiver.attribute ?? "")): no longer occurs (\(Markup.escape(waiver.reason)))</li>\n"
        }
        for waiver in outcome.expired {
            html += "<li class=\"expired\">expired \(Markup.escape(waiver.expires ?? "")): <code>\(Markup.escape(waiver.target))</code> \(Markup.escape(waiver.test ?? waiver.attribute ?? ""))</li>\n"
        }
        return html + "</ul>\n"
    }

    static func legend() -> String {
        let classes = ["honored", "ignored", "rejected", "violated", "xfail", "untested"]
        return "<p class=\"legend\">" + classes.map { "<span class=\"tag c-\($0)\">\($0)</span>" }.joined(separator: " ") + "</p>\n"
    }

    /// An id safe in a URL fragment and an HTML attribute, whatever the target or attribute is called.
    static func anchor(_ target: String, _ attribute: String?) -> String {
        let raw = attribute.map { "cell-\(target)-\($0)" } ?? "target-\(target)"
        return String(raw.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" ? Character($0) : "_" })
    }

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Markup.escape(title))</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fff; }
        code, pre, .observed { font-family: ui-monospace, monospace; font-size: 12px; }
        table { border-collapse: collapse; margin: .5em 0 1em; }
        th, td { border: 1px solid #c8c8c8; padding: 3px 7px; text-align: left; vertical-align: top; }
        table.matrix td { text-align: center; min-width: 5.5em; }
        table.matrix a { color: inherit; text-decoration: none; display: block; }
        table.lines tr.changed { background: #fff3cd; font-weight: bold; }
        .c-honored { background: #b7e4b9; } .c-ignored { background: #d7e3f4; } .c-rejected { background: #ffd59a; }
        .c-indistinguishable { background: #e2ecd9; } .c-not_applicable, .c-unmeasured { background: #f3f3f3; color: #555; }
        .c-kept, .c-conforming { background: #b7e4b9; }
        .c-violated { background: #f4a3a3; font-weight: bold; } .c-xfail { background: #d9c6f0; } .c-untested { background: #eeeeee; color: #777; }
        .tag { padding: 0 .4em; border-radius: 3px; }
        .s-passed { color: #1e6b22; } .s-failed, .s-crashed, .s-timed_out { color: #b00020; font-weight: bold; } .s-error { color: #a35a00; } .s-unsupported { color: #777; }
        tr.t-fail td { background: #fde8e8; } tr.t-not_run td { background: #f3f3f3; color: #777; }
        details.cell { margin: .3em 0 .3em 1em; } details.cell:target { outline: 2px solid #3366cc; }
        pre { background: #f6f8fa; border: 1px solid #ddd; padding: .5em; overflow-x: auto; max-height: 24em; }
        .where { font-size: 12px; color: #555; } .reason { color: #b00020; } .missing { color: #a35a00; }
        svg.chart .alloc { fill: #3b78c4; } svg.chart .free { fill: #e39b3b; } svg.chart .whisker { stroke: #333; stroke-width: 1.5; }
        svg.chart .grid { stroke: #e0e0e0; } svg.chart text { font: 11px system-ui, sans-serif; fill: #333; }
        svg.chart .alloc-t { fill: #3b78c4; } svg.chart .free-t { fill: #e39b3b; }
        section.target { border-top: 1px solid #ccc; margin-top: 1em; }
        </style>
        <script>
        // Opening a cell from the matrix: follow the fragment and unfold the details it names.
        function openTarget() { var e = document.getElementById(location.hash.slice(1)); if (e && e.tagName === "DETAILS") e.open = true; }
        window.addEventListener("hashchange", openTarget); window.addEventListener("DOMContentLoaded", openTarget);
        </script>
        </head><body>
        \(body)
        </body></html>

        """
    }
}
