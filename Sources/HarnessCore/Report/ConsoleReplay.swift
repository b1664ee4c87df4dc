import Foundation

/// `harness parse`: a saved console turned into the same result tree a run makes, offline, like
/// kunit.py's `parse` on a saved log. The boot's ending is not in the console, so it is inferred:
/// a panic line means the guest panicked, anything else is read as a guest that powered off, and
/// an unfinished KTAP document says so in the reason.
public enum ConsoleReplay {
    /// A one-target report for `console`. `arch` picks the profile for machine and CPU when known;
    /// the variant is the one the guest announced in `dma_discovery`, else `variant`.
    public static func report(console: String, consolePath: String, arch: String?, variant: String?,
                              catalog: ArchCatalog?) -> RunReport {
        report(transcript: ConsoleTranscript(text: console), consolePath: consolePath, arch: arch, variant: variant,
               catalog: catalog)
    }

    /// The same for a console read by `ConsoleTranscript.read(from:)`, under its limits.
    public static func report(transcript: ConsoleTranscript, consolePath: String, arch: String?, variant: String?,
                              catalog: ArchCatalog?) -> RunReport {
        let findings = ConsoleScanner.findings(in: transcript.lines)
        let ending: BootEnding = findings.contains { $0.kind == .panic } ? .panicked : .poweredOff
        let collected = ResultCollector.collect(transcript: transcript, ending: ending, detail: "read offline from \(consolePath)")
        let tests = collected.document.allTests
        // The guest names the variant, and the name becomes the target id: only a plain name is taken.
        let announced = tests.first { $0.suite == "dma_discovery" }?.observed["variant"].flatMap(plainName)
        let variantName = announced ?? variant ?? "direct"
        let archName = arch ?? "unknown"
        let profile = arch.flatMap { catalog?.profiles[$0] }
        let target = TargetReport(
            id: "\(archName)-\(variantName)", arch: archName, variant: variantName,
            machine: profile?.machine ?? "unknown", cpu: profile?.cpu ?? "unknown", kernel: nil,
            status: collected.status, failedStage: nil, note: nil, errorKind: nil, reason: collected.reason,
            stages: [StageRecord(stage: .collect, status: .ok, seconds: 0, detail: "offline parse of \(consolePath)")],
            boot: nil, ktapComplete: collected.document.isComplete, suites: collected.document.suites,
            attributes: collected.verdicts.attributes, findings: collected.findings,
            summary: TestCounts(tests: tests),
            // Log paths in a report are relative to it (the schema says so); an absolute one is only named in the stage.
            logs: LogPaths(console: consolePath.hasPrefix("/") ? nil : consolePath),
            planMismatch: collected.document.planMismatch, consoleCut: collected.consoleCut,
            combinations: collected.verdicts.combinations, contractFindings: collected.verdicts.findings,
            vacuous: collected.verdicts.vacuous, accelerator: VerdictContext.tcg.accelerator)
        let now = Date()
        return RunReport(
            run: RunMetadata(harnessVersion: HarnessVersion.string, commandLine: CommandLine.arguments,
                             host: .measure(), libvirtURI: "", startedAt: now, finishedAt: now, interruption: nil),
            targets: [target])
    }

    /// `name` when it is a plain identifier (letters, digits, `_`), as target ids are made of (the schema's pattern).
    static func plainName(_ name: String) -> String? {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
        return plain ? name : nil
    }
}
