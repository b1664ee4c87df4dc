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

        @Option(name: .long, parsing: .upToNextOption, help: "Debian kernel lines: \(DataNames.suites), or all.")
        var debian: [String] = []

        @Option(name: .long, help: "Group the targets into N shards (entries with shard=i/N and their targets).")
        var shards: Int?

        func validate() throws {
            if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
        }

        func run() throws {
            try Harness.guarded {
                let catalog = try ArchCatalog(layout: try ProjectLayout.locate())
                var entries = try CIMatrix.entries(catalog: catalog, arches: arch, variants: variant, suites: debian)
                if let shards { entries = try CIMatrix.shards(entries, count: shards) }
                switch format {
                case .github: print(try CIMatrix.github(entries))
                case .plain: print(CIMatrix.plain(entries), terminator: "")
                }
                return .passed
            }
        }
    }
}
