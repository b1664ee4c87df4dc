import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    /// `harness compare BASE NEW`: what changed between two runs, and whether anything regressed.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two report.json files: new violations, fixes, status changes, timing regressions.",
            discussion: """
            A regression is a check or attribute that newly fails or is violated, a target whose status \
            got worse or that is missing from NEW, or a dma_bench p50 (alloc or free) that grew by more \
            than --threshold percent and more than --floor-ns; without either, the noise suits the clock \
            the timings were measured on (\(noise(.realtime)) in real time, whose figures move up to 3x \
            between identical runs; \(noise(.icount)) on an instruction-counted clock, whose figures \
            repeat), and timings of two different clocks are not compared. Findings waived in NEW (--waivers) are \
            listed, not counted. Exit codes: 0 nothing regressed; 1 regressed; 2 a report, the waiver \
            file or an option is wrong. With --base-debian and --new-debian, one arch is compared \
            across kernel lines: targets are matched by arch and variant, from two reports or one.
            """)

        /// `250 % and 5000 ns`, for the help text.
        static func noise(_ noise: ReportComparison.TimingNoise) -> String {
            String(format: "%.0f %% and %.0f ns", noise.threshold * 100, noise.floorNanoseconds)
        }

        enum Format: String, ExpressibleByArgument { case markdown, json }

        @Argument(help: "The earlier report.json.")
        var base: String

        @Argument(help: "The later report.json.")
        var new: String

        @Option(name: .long, help: "markdown or json.")
        var format: Format = .markdown

        @Option(name: .long, help: "Timing noise: relative growth allowed, in percent, on every clock (default: suited to each target's clock).")
        var threshold: Double?

        @Option(name: .customLong("floor-ns"), help: "Timing noise: absolute growth allowed, in nanoseconds, on every clock (default: suited to each target's clock).")
        var floorNanoseconds: Double?

        @Option(name: .long, help: "A waiver file of known deviations (JSON), applied to both reports.")
        var waivers: String?

        @Option(name: [.short, .long], help: "Write here instead of stdout.")
        var output: String?

        @Option(name: .long, help: "Compare only targets matching this glob (repeatable), e.g. '*-iommu'.")
        var target: [String] = []

        @Option(name: .customLong("base-debian"), help: "Only BASE's targets on this Debian kernel line, matched to NEW's by arch and variant.")
        var baseDebian: String?

        @Option(name: .customLong("new-debian"), help: "Only NEW's targets on this Debian kernel line (BASE and NEW may be one report of several lines).")
        var newDebian: String?

        func validate() throws {
            if (baseDebian == nil) != (newDebian == nil) {
                throw ValidationError("--base-debian and --new-debian go together: one kernel line against another")
            }
            if let threshold, threshold < 0 { throw ValidationError("--threshold must be a percentage of 0 or more") }
            if let floorNanoseconds, floorNanoseconds < 0 { throw ValidationError("--floor-ns must be 0 or more") }
        }

        func run() throws {
            try Harness.guarded {
                var baseReport = try RunReport.load(from: URL(fileURLWithPath: base))
                var newReport = try RunReport.load(from: URL(fileURLWithPath: new))
                if let baseDebian, let newDebian {
                    baseReport = try ReportComparison.onKernelLine(baseReport, suite: baseDebian, file: base)
                    newReport = try ReportComparison.onKernelLine(newReport, suite: newDebian, file: new)
                }
                if !target.isEmpty {
                    // Both sides narrowed alike, so a target left out on purpose is not "missing".
                    baseReport.targets = baseReport.targets.filter { id in target.contains { Glob.matches($0, id.id) } }
                    newReport.targets = newReport.targets.filter { id in target.contains { Glob.matches($0, id.id) } }
                }
                if let waivers {
                    let list = try Waivers.load(from: URL(fileURLWithPath: waivers))
                    baseReport = Waivers.apply(list, file: waivers, to: baseReport)
                    newReport = Waivers.apply(list, file: waivers, to: newReport)
                }
                let comparison = ReportComparison.compare(
                    base: baseReport, new: newReport, baseName: base, newName: new,
                    noise: threshold == nil && floorNanoseconds == nil ? nil
                        : .init(threshold: threshold.map { $0 / 100 } ?? ReportComparison.TimingNoise.realtime.threshold,
                                floorNanoseconds: floorNanoseconds ?? ReportComparison.TimingNoise.realtime.floorNanoseconds))
                switch format {
                case .markdown:
                    try Output.write(Data(ComparisonMarkdown.render(comparison).utf8), to: output)
                case .json:
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    var data = try encoder.encode(CompareJSON(comparison: comparison))
                    data.append(contentsOf: Array("\n".utf8))
                    try Output.write(data, to: output)
                }
                return comparison.regressed ? .failures : .passed
            }
        }
    }
}

/// The JSON shape of `compare --format json`: the comparison plus its verdict, spelled out.
struct CompareJSON: Encodable {
    var comparison: ReportComparison

    enum CodingKeys: String, CodingKey { case base, new, noise, icountNoise, regressed, changes, staleWaivers }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(comparison.base, forKey: .base)
        try container.encode(comparison.new, forKey: .new)
        try container.encode(comparison.noise, forKey: .noise)
        try container.encodeIfPresent(comparison.icountNoise, forKey: .icountNoise)
        try container.encode(comparison.regressed, forKey: .regressed)
        try container.encode(comparison.changes, forKey: .changes)
        try container.encode(comparison.staleWaivers, forKey: .staleWaivers)
    }
}
