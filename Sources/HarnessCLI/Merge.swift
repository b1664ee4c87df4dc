import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    /// `harness merge OUT IN...`: shard reports joined into one.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join shard report.json files into one (targets concatenated; log paths rebased to OUT's folder).",
            discussion: """
            Exit codes: 0 merged; 2 an input is missing or not a report, two shards hold the same \
            target, the shards come from different harness versions, or OUT is not writable.
            """)

        @Argument(help: "The merged report to write.")
        var out: String

        @Argument(help: "Shard reports.")
        var inputs: [String]

        func validate() throws {
            if inputs.isEmpty { throw ValidationError("give at least one shard report after OUT") }
        }

        func run() throws {
            try Harness.guarded {
                let outFile = URL(fileURLWithPath: out).standardizedFileURL
                let outFolder = outFile.deletingLastPathComponent()
                let reports = try inputs.map { input -> (name: String, report: RunReport) in
                    let file = URL(fileURLWithPath: input).standardizedFileURL
                    let report = try RunReport.load(from: file)
                    return (input, ReportMerge.rebaseLogs(report, from: file.deletingLastPathComponent(), to: outFolder))
                }
                let merged = try ReportMerge.merge(reports)
                try FileManager.default.createDirectory(at: outFolder, withIntermediateDirectories: true)
                try merged.write(to: outFile)
                FileHandle.standardError.write(Data("merged \(merged.targets.count) targets from \(inputs.count) reports into \(out)\n".utf8))
                return .passed
            }
        }
    }
}
