import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    /// `harness parse console.log`: the result tree of a saved console, offline.
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse a saved console.log into results and conformance, offline (no guest booted).",
            discussion: """
            Prints the arch x attribute table, or with --json a one-target report.json that \
            `harness report` renders. Exit codes: 0 the console shows a passing suite; 1 it shows \
            failures, a crash or an unfinished suite; 2 the file cannot be read or --arch is unknown.
            """)

        @Argument(help: "A console.log saved by harness run (or any console holding the guest's KTAP).")
        var console: String

        @Option(name: .long, help: "The guest's arch, for the target id, machine and CPU.")
        var arch: String?

        @Option(name: .long, help: "The variant, when the console does not announce it.")
        var variant: String?

        @Flag(name: .long, help: "Print a report.json instead of the table.")
        var json = false

        func run() throws {
            try Harness.guarded {
                // Streamed under the console limits: a console of any size is read in bounded memory.
                guard let transcript = try? ConsoleTranscript.read(from: URL(fileURLWithPath: console)) else {
                    throw HarnessError.usage("cannot read console \(console)")
                }
                let catalog = try? ArchCatalog(layout: try ProjectLayout.locate())
                if let arch, let catalog { _ = try catalog.profile(named: arch) }
                let report = ConsoleReplay.report(transcript: transcript, consolePath: console,
                                                  arch: arch, variant: variant, catalog: catalog)
                if json {
                    FileHandle.standardOutput.write(try report.encodedJSON() + Data("\n".utf8))
                } else {
                    print(SummaryTable.render(report), terminator: "")
                }
                return report.targets.allSatisfy { $0.status == .passed } ? .passed : .failures
            }
        }
    }
}
