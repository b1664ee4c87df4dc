import Foundation

/// Inline SVG bar charts of `dma_bench` latencies: per test, the p50 of `dma_alloc_attrs()` and of
/// `dma_free_attrs()`, with a whisker to p99. A log scale, because one chart holds 4 KiB allocations
/// of about a microsecond next to 4 MiB ones of about a millisecond.
public enum TimingChart {
    static let rowHeight = 18.0
    static let labelWidth = 260.0
    static let plotWidth = 520.0

    public static func svg(_ timings: [BenchTiming], title: String) -> String {
        guard !timings.isEmpty else { return "" }
        let values = timings.flatMap { timing in ["alloc_p50_ns", "alloc_p99_ns", "free_p50_ns", "free_p99_ns"].compactMap { timing.nanoseconds[$0] } }
        let low = max(1, values.filter { $0 > 0 }.min() ?? 1)
        let high = max(low * 10, values.max() ?? 10)
        let decadeLow = floor(log10(low)), decadeHigh = ceil(log10(high))
        func x(_ value: Double) -> Double {
            let clamped = max(value, pow(10, decadeLow))
            return labelWidth + (log10(clamped) - decadeLow) / max(1, decadeHigh - decadeLow) * plotWidth
        }
        let height = Double(timings.count) * rowHeight * 2 + 50
        let width = labelWidth + plotWidth + 20
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(Int(width))\" height=\"\(Int(height))\""
            + " viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Markup.escape(title))\">\n"
        svg += "<title>\(Markup.escape(title))</title>\n"
        // Decade grid lines and their labels.
        var decade = decadeLow
        while decade <= decadeHigh {
            let gx = format(x(pow(10, decade)))
            svg += "<line x1=\"\(gx)\" y1=\"20\" x2=\"\(gx)\" y2=\"\(format(height - 20))\" class=\"grid\"/>"
            svg += "<text x=\"\(gx)\" y=\"\(format(height - 6))\" class=\"axis\" text-anchor=\"middle\">\(label(pow(10, decade)))</text>\n"
            decade += 1
        }
        svg += "<text x=\"\(Int(labelWidth))\" y=\"13\" class=\"legend\"><tspan class=\"alloc-t\">■ alloc p50</tspan>"
            + " <tspan class=\"free-t\">■ free p50</tspan>  (whisker: p99, log scale)</text>\n"
        for (index, timing) in timings.enumerated() {
            let top = 24 + Double(index) * rowHeight * 2
            svg += "<text x=\"\(format(labelWidth - 6))\" y=\"\(format(top + rowHeight - 4))\" class=\"label\" text-anchor=\"end\">\(Markup.escape(timing.name))</text>\n"
            for (offset, kind) in ["alloc", "free"].enumerated() {
                guard let p50 = timing.nanoseconds["\(kind)_p50_ns"] else { continue }
                let y = top + Double(offset) * (rowHeight - 2)
                let end = x(p50)
                svg += "<rect x=\"\(Int(labelWidth))\" y=\"\(format(y))\" width=\"\(format(max(1, end - labelWidth)))\" height=\"\(format(rowHeight - 5))\" class=\"\(kind)\">"
                svg += "<title>\(Markup.escape("\(timing.test) \(kind) p50 \(label(p50))"))</title></rect>"
                if let p99 = timing.nanoseconds["\(kind)_p99_ns"], p99 > p50 {
                    let mid = format(y + (rowHeight - 5) / 2)
                    svg += "<line x1=\"\(format(end))\" y1=\"\(mid)\" x2=\"\(format(x(p99)))\" y2=\"\(mid)\" class=\"whisker\"/>"
                }
                svg += "\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }

    /// `1.2 µs`, `340 ns`, `4.1 ms`.
    static func label(_ nanoseconds: Double) -> String {
        switch nanoseconds {
        case ..<1_000: return "\(Int(nanoseconds)) ns"
        case ..<1_000_000: return String(format: "%.3g µs", nanoseconds / 1_000)
        case ..<1_000_000_000: return String(format: "%.3g ms", nanoseconds / 1_000_000)
        default: return String(format: "%.3g s", nanoseconds / 1_000_000_000)
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
