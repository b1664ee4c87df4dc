import Foundation

/// The short arch x attribute table `harness run` prints on stdout.
public enum SummaryTable {
    public static func render(_ report: RunReport) -> String {
        let columns = ConformanceAttributes.columns
        let header = ["target", "status", "tests"] + columns.map(abbreviation)
        var rows: [[String]] = [header]
        for target in report.targets {
            let classes = Dictionary(target.attributes.map { ($0.attribute, $0.cellWord) }, uniquingKeysWith: { first, _ in first })
            let counts = "\(target.summary.passed)/\(target.summary.total)"
            rows.append([PrintableText.line(target.id), target.status.rawValue, counts] + columns.map { classes[$0] ?? "-" })
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
        // Reasons quote the guest (a BUG line): no escape sequence of its reaches the terminal.
        for target in report.targets where target.reason != nil {
            text += "\(PrintableText.line(target.id)): \(PrintableText.line(target.reason!))\n"
        }
        return text
    }

    /// Column titles short enough for a terminal.
    static func abbreviation(_ attribute: String) -> String {
        switch attribute {
        case "none": return "none"
        case "WEAK_ORDERING": return "WEAK_ORD"
        case "WRITE_COMBINE": return "WC"
        case "NO_KERNEL_MAPPING": return "NO_KMAP"
        case "SKIP_CPU_SYNC": return "SKIP_SYNC"
        case "FORCE_CONTIGUOUS": return "FORCE_CONTIG"
        case "ALLOC_SINGLE_PAGES": return "SINGLE_PAGES"
        default: return attribute
        }
    }
}
