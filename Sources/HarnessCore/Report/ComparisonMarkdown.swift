import Foundation

/// `harness compare`'s Markdown: the verdict first, then per target the changes grouped by kind,
/// regressions before everything else. Long lists are cut with a count, since a reviewer reads
/// this in a pull request; the JSON output has every change.
public enum ComparisonMarkdown {
    static let perGroup = 15

    public static func render(_ comparison: ReportComparison) -> String {
        var out = "# dma-harness comparison\n\n"
        out += "Base \(MarkdownText.code(comparison.base)) → new \(MarkdownText.code(comparison.new)); "
        if let icount = comparison.icountNoise {
            out += String(format: "timing noise on dma_bench p50s: +%.0f%% and +%.0f ns in real time, +%.0f%% and +%.0f ns on an instruction-counted clock.\n\n",
                          comparison.noise.threshold * 100, comparison.noise.floorNanoseconds,
                          icount.threshold * 100, icount.floorNanoseconds)
        } else {
            out += String(format: "timing noise: +%.0f%% and +%.0f ns on dma_bench p50s.\n\n",
                          comparison.noise.threshold * 100, comparison.noise.floorNanoseconds)
        }
        let regressions = comparison.changes.filter(\.regression)
        out += regressions.isEmpty ? "**Verdict: nothing regressed.**" : "**Verdict: regressed** (\(regressions.count) regression(s))."
        out += " " + summary(comparison.changes) + "\n"
        let targets = orderedTargets(comparison.changes)
        if targets.isEmpty { out += "\nNo differences.\n" }
        for target in targets {
            let own = comparison.changes.filter { $0.target == target }
            out += "\n## \(MarkdownText.code(target))\n\n"
            for kind in kindsInOrder {
                let group = own.filter { $0.kind == kind }
                guard !group.isEmpty else { continue }
                out += "\(title(kind)) (\(group.count)):\n\n"
                out += "| subject | base | new | evidence |\n| --- | --- | --- | --- |\n"
                for change in group.prefix(perGroup) {
                    var evidence = MarkdownReport.cell(change.detail)
                    if let waived = change.waived { evidence += " — *waived: \(MarkdownReport.cell(waived))*" }
                    out += "| \(MarkdownText.tableCode(change.subject)) | \(MarkdownText.prose(change.base ?? "–")) | \(MarkdownText.prose(change.new ?? "–")) | \(evidence) |\n"
                }
                if group.count > perGroup { out += "| … \(group.count - perGroup) more | | | see `--format json` |\n" }
                out += "\n"
            }
        }
        for waiver in comparison.staleWaivers {
            out += "- stale waiver: \(MarkdownText.code(waiver.target)) \(MarkdownReport.cell(waiver.test ?? waiver.attribute ?? "")) no longer occurs\n"
        }
        return out
    }

    static let kindsInOrder: [ReportComparison.Kind] = [
        .targetRemoved, .newViolation, .timingRegression, .fixed, .statusChange, .timingImprovement, .timingsNotCompared,
        .targetAdded,
    ]

    static func title(_ kind: ReportComparison.Kind) -> String {
        switch kind {
        case .newViolation: return "**New violations**"
        case .fixed: return "Fixed"
        case .statusChange: return "Other status changes"
        case .timingRegression: return "**Timing regressions**"
        case .timingImprovement: return "Timing improvements"
        case .timingsNotCompared: return "Timings not compared (different guest clocks)"
        case .targetAdded: return "Target added"
        case .targetRemoved: return "**Target missing from the new report**"
        }
    }

    static func summary(_ changes: [ReportComparison.Change]) -> String {
        kindsInOrder.compactMap { kind in
            let count = changes.filter { $0.kind == kind }.count
            return count == 0 ? nil : "\(count) \(kind.rawValue.replacingOccurrences(of: "_", with: " "))"
        }.joined(separator: ", ")
    }

    /// Targets with regressions first, then the rest, each group by id.
    static func orderedTargets(_ changes: [ReportComparison.Change]) -> [String] {
        let all = Set(changes.map(\.target))
        let regressed = Set(changes.filter(\.regression).map(\.target))
        return regressed.sorted() + all.subtracting(regressed).sorted()
    }
}
