import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    /// `harness matrix`: the nightly CI's target list, from the profiles.
    struct Matrix: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the target list for a CI matrix (GitHub Actions JSON or plain lines).",
            discussion: "Exit codes: 0 printed; 2 unknown arch, variant or bad --shards.")

        enum Format: String, ExpressibleByArgument { case github, plain }

        @Option(name: .long, help: "github ({\"include\":[...]}) or plain (one target per line).")
        var format: Format = .github

        @Option(name: .long, parsing: .upToNextOption, help: "Architectures, or all.")
        var arch: [String] = ["all"]

        @Option(name: .long, parsing: .upToNextOption, help: "Variants, or all.")
        var variant: [String] = ["all"]

        @Option(name: .long, help: "Group the targets into N shards (entries with shard=i/N and their targets).")
        var shards: Int?

        func validate() throws {
            if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
        }

        func run() throws {
            try Harness.guarded {
                let catalog = try ArchCatalog(layout: try ProjectLayout.locate())
                var entries = try CIMatrix.entries(catalog: catalog, arches: arch, variants: variant)
                if let shards { entries = try CIMatrix.shards(entries, count: shards) }
                switch format {
                case .github: print(try CIMatrix.github(entries))
                case .plain: print(CIMatrix.plain(entries), terminator: "")
                }
                return .passed
            }
        }
    }

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
