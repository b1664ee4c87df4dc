import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    /// `harness report FILE --format ...`: renders a report.json for a reviewer or a CI system.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a report.json as Markdown, HTML, JUnit XML, KCIDB JSON or JSON.",
            discussion: """
            Log links and console excerpts are read relative to the report's folder. With --waivers, \
            listed deviations are shown as expected (XFAIL) and stale or expired waivers are named. \
            Exit codes: 0 rendered; 2 the report, the waiver file or an option is wrong.
            """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case markdown, html, junit, kcidb, json
        }

        @Argument(help: "A report.json written by harness run, merge or parse.")
        var file: String

        @Option(name: .long, help: "markdown, html, junit, kcidb or json.")
        var format: Format = .markdown

        @Option(name: .long, help: "A waiver file of known deviations (JSON).")
        var waivers: String?

        @Option(name: [.short, .long], help: "Write here instead of stdout.")
        var output: String?

        @Option(name: .long, help: "KCIDB origin (lower-case letters, digits, _).")
        var origin: String = "dma_harness"

        @Option(name: .customLong("log-url-base"), help: "KCIDB: the URL the report's folder will be published at, for log_url.")
        var logURLBase: String?

        func run() throws {
            try Harness.guarded {
                let reportFile = URL(fileURLWithPath: file)
                var report = try RunReport.load(from: reportFile)
                if let waivers {
                    report = Waivers.apply(try Waivers.load(from: URL(fileURLWithPath: waivers)), file: waivers, to: report)
                }
                let data: Data
                switch format {
                case .markdown: data = Data(MarkdownReport.render(report).utf8)
                case .html: data = Data(HTMLReport.render(report, reportFolder: reportFile.deletingLastPathComponent()).utf8)
                case .junit: data = Data(JUnitReport.render(report).utf8)
                case .kcidb: data = try KCIDBReport.render(report, origin: origin, logURLBase: logURLBase) + Data("\n".utf8)
                case .json: data = try report.encodedJSON() + Data("\n".utf8)
                }
                try Output.write(data, to: output)
                return .passed
            }
        }
    }
}

/// Where a rendering goes: stdout, or a file the user named (an unwritable one is a usage error).
enum Output {
    static func write(_ data: Data, to path: String?) throws {
        guard let path else {
            FileHandle.standardOutput.write(data)
            return
        }
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw HarnessError.usage("cannot write \(path): choose a writable path")
        }
    }
}
