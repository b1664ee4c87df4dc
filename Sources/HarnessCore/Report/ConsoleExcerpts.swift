import Foundation

/// The console logs a report points at, read lazily relative to the report's folder: renderers show
/// the exact lines a test's result came from (`TestResult.consoleLines`), as the guest printed them.
public final class ConsoleExcerpts {
    let reportFolder: URL
    private var cache: [String: [String]?] = [:]

    /// `reportFolder` is the folder of report.json; log paths in the report are relative to it.
    public init(reportFolder: URL) {
        self.reportFolder = reportFolder
    }

    /// Lines `first...last` (1-based) of the target's console, capped at `limit` lines from the
    /// end of the span (the result line is the evidence, what precedes it context); nil when the
    /// report has no console for the target or the file is not beside the report.
    public func lines(of target: TargetReport, span: [Int], limit: Int = 40) -> [String]? {
        guard span.count == 2, let all = console(target) else { return nil }
        let first = max(1, span[0], span[1] - limit + 1)
        let last = min(all.count, span[1])
        guard first <= last else { return [] }
        return Array(all[(first - 1)..<last])
    }

    /// Whether the target's console.log could be read.
    public func hasConsole(_ target: TargetReport) -> Bool { console(target) != nil }

    private func console(_ target: TargetReport) -> [String]? {
        guard let path = target.logs.console else { return nil }
        if let cached = cache[path] { return cached }
        // Only paths inside the report's folder: a report is input, and must not make us read /etc.
        let file = reportFolder.appendingPathComponent(path).standardizedFileURL
        let inside = file.path.hasPrefix(reportFolder.standardizedFileURL.path + "/")
        // Read as the collect stage read it, so the report's line numbers point at the same lines.
        let lines = inside ? (try? ConsoleTranscript.read(from: file))?.lines : nil
        cache[path] = .some(lines)
        return lines
    }
}

/// The in-guest timings of the `dma_bench` suite, as numbers.
public struct BenchTiming: Sendable, Equatable {
    /// The test id (`dma_bench.none_4096_gfp_kernel`).
    public var test: String
    public var name: String
    /// `alloc_p50_ns`, `free_p99_ns`, ...: every `alloc_*_ns` / `free_*_ns` key the guest printed.
    public var nanoseconds: [String: Double]

    /// The bench tests of a target that reported timings, in suite order.
    public static func of(_ target: TargetReport) -> [BenchTiming] {
        target.allTests.filter { $0.suite == "dma_bench" }.compactMap { test in
            var values: [String: Double] = [:]
            for key in test.observed.keys where (key.hasPrefix("alloc_") || key.hasPrefix("free_")) && key.hasSuffix("_ns") {
                if let number = test.nanoseconds(key) { values[key] = number }
            }
            return values.isEmpty ? nil : BenchTiming(test: test.id, name: test.name, nanoseconds: values)
        }
    }
}
