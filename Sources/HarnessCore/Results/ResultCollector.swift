import Foundation

/// What the collect stage made of one console.
public struct CollectedResults: Sendable {
    public var document: KTAPDocument
    public var findings: [ConsoleFinding]
    public var status: TargetStatus
    public var reason: String?
    /// Set when the console was over a `ConsoleLimits` limit and only part of it was read.
    public var consoleCut: ConsoleCut? = nil
    /// Set when `status` is `error`: the console shows the host's part failing, not the kernel's.
    public var hostFault: HostFault? = nil
    /// The verdicts on the tests (README, "Verdicts"), which decide whether a failed test fails the target.
    public var verdicts: TargetVerdicts
}

/// What went wrong on the host's side of a boot that reached the guest.
public enum HostFault: Sendable {
    /// The guest's module loader refused the driver (vermagic, symbols): the build tree is not the
    /// kernel's. A user's `--kbuild` is then bad input; for a Debian kernel the harness is at fault.
    case moduleRefused
    /// QEMU ended without the guest powering off and with no kernel crash on the console.
    case emulatorEnded
}

/// The collect stage: KTAP and kernel trouble out of the console, and the target's status from both
/// and from how the boot ended.
public enum ResultCollector {
    /// Reads the console (and QEMU's log) as `ConsoleTranscript` does: streamed, under `ConsoleLimits`.
    public static func collect(consoleLog: URL, qemuLog: URL?, ending: BootEnding, detail: String,
                               context: VerdictContext = .tcg) throws -> CollectedResults {
        let console = (try? ConsoleTranscript.read(from: consoleLog)) ?? ConsoleTranscript(text: "")
        let qemu = qemuLog.flatMap { try? ConsoleTranscript.read(from: $0) }
        return collect(transcript: console, qemuLogLines: qemu?.lines, ending: ending, detail: detail, context: context)
    }

    /// The same for a console (and QEMU log) already in memory, read as `ConsoleTranscript(text:)` does.
    public static func collect(console: String, qemuLog: String? = nil, ending: BootEnding, detail: String,
                               context: VerdictContext = .tcg) -> CollectedResults {
        collect(transcript: ConsoleTranscript(text: console), qemuLogLines: qemuLog.map { ConsoleTranscript(text: $0).lines },
                ending: ending, detail: detail, context: context)
    }

    /// The results of a console already read; its cut, if any, is judged and passed on to the report.
    public static func collect(transcript: ConsoleTranscript, qemuLogLines: [String]? = nil, ending: BootEnding,
                               detail: String, context: VerdictContext = .tcg) -> CollectedResults {
        let lines = transcript.lines
        let document = KTAPParser().parse(lines: lines)
        let findings = ConsoleScanner.findings(in: lines) + (qemuLogLines.map(ConsoleScanner.eduClamps(inQEMULog:)) ?? [])
        let verdicts = VerdictClassifier.classify(tests: document.allTests, context: context)
        let (status, reason) = judge(document: document, findings: findings, consoleLines: lines,
                                     ending: ending, detail: detail, consoleCut: transcript.cut, verdicts: verdicts)
        var collected = CollectedResults(document: document, findings: findings, status: status, reason: reason,
                                         consoleCut: transcript.cut, verdicts: verdicts)
        if status == .error {
            collected.hostFault = ending == .stoppedUnexpectedly ? .emulatorEnded : .moduleRefused
        }
        return collected
    }

    static func judge(document: KTAPDocument, findings: [ConsoleFinding], consoleLines: [String],
                      ending: BootEnding, detail: String, consoleCut: ConsoleCut? = nil,
                      verdicts: TargetVerdicts? = nil) -> (TargetStatus, String?) {
        let reported = document.allTests.filter { $0.status != .notRun }.count
        let progress = "\(reported) test(s) reported before it"
        let fatal = findings.first { $0.kind == .oops || $0.kind == .bug }
        switch ending {
        case .interrupted:
            return (.interrupted, "interrupted by the user; \(progress)")
        case .timedOut:
            // An Oops that left a lock held is why the guest hung: the kernel's fault, said as such.
            if let fatal { return (.crashed, "\(fatal.summary) (console line \(fatal.line)), then \(detail); \(progress)") }
            if !consoleLines.contains(where: { $0.contains("Linux version") }) {
                return (.timedOut, "the kernel never booted: no kernel message on the console (\(detail))")
            }
            return (.timedOut, "guest hung: \(detail); \(progress)")
        case .panicked:
            let panic = findings.first { $0.kind == .panic }?.summary ?? "kernel panic"
            return (.crashed, "\(panic) (console line \(findings.first { $0.kind == .panic }?.line ?? 0)); \(progress)")
        case .stoppedUnexpectedly:
            if let fatal { return (.crashed, "\(fatal.summary) (console line \(fatal.line)), then \(detail); \(progress)") }
            // QEMU went away with no kernel crash on the console: the host's failure, never the kernel's.
            return (.error, "QEMU ended without the guest powering off and with no kernel crash on the console: \(detail); see qemu.log; \(progress)")
        case .poweredOff:
            break
        }
        if let fatal {
            return (.crashed, "\(fatal.summary) (console line \(fatal.line)); \(progress)")
        }
        // The device reached outside its mask: whatever the guest concluded, the transfers were wrong.
        let clamps = findings.filter { $0.kind == .eduClamp }
        if let first = clamps.first {
            return (.failed, "edu clamped \(clamps.count) DMA address(es) to its mask (qemu.log line \(first.line)): \(first.summary)")
        }
        guard document.sawHeader else {
            // The kernel refusing a module built for another release says nothing about its DMA.
            if let refusal = moduleRefusal(in: consoleLines) {
                return (.error, "the guest refused the module: \(refusal); it was not built for this kernel")
            }
            return (.failed, "the guest driver printed no KTAP: \(moduleLoadProblem(in: consoleLines) ?? "see console.log")"
                        + (consoleCut.map { "; \($0.summary)" } ?? ""))
        }
        guard document.isComplete else {
            let problems = document.planProblems.prefix(3).joined(separator: "; ")
            return (.failed, "KTAP output incomplete (plans not met\(problems.isEmpty ? "" : ": " + problems)); \(progress)"
                        + (consoleCut.map { "; \($0.summary)" } ?? ""))
        }
        // A failed test whose every check is a de-facto finding or a hint's outcome is reported, and
        // does not fail the target; a promise the rules found broken without a failed test does.
        let excused = verdicts?.excusedFailures ?? [:]
        let failing = document.allTests.filter { $0.status == .fail && excused[$0.id] == nil }
        let failingSuites = document.suites.filter { $0.status == .fail && !$0.tests.contains { $0.status == .fail } }
        let derived = (verdicts?.failingFindings ?? []).filter { finding in
            !finding.tests.contains { id in failing.contains { $0.id == id } }
        }
        if !failing.isEmpty || !failingSuites.isEmpty || !derived.isEmpty {
            let names = (failing.map(\.id) + failingSuites.map(\.name) + derived.map(\.id)).prefix(5).joined(separator: ", ")
            return (.failed, "\(failing.count + failingSuites.count + derived.count) failed: \(names)")
        }
        // A warning inside a test that declared it expects one (warn_expected=1) is that test's evidence.
        let expectedSpans = document.allTests.filter(\.expectsWarning).compactMap(\.consoleLines)
        let unexpected = findings.filter { finding in
            finding.kind == .warning && !expectedSpans.contains { $0.count == 2 && ($0[0]...$0[1]).contains(finding.line) }
        }
        if let warning = unexpected.first {
            return (.failed, "kernel warning during the suite: \(warning.summary) (console line \(warning.line))")
        }
        // What was not read was not scanned for panics and warnings either.
        if let cut = consoleCut, cut.stoppedEarly {
            return (.failed, "\(cut.summary): the rest was not scanned for kernel trouble")
        }
        if let deFacto = verdicts?.findings.filter({ !$0.tier.failsTarget }), !deFacto.isEmpty {
            return (.passed, "passed with \(deFacto.count) de-facto finding\(deFacto.count == 1 ? "" : "s"): \(deFacto.map(\.id).joined(separator: ", "))")
        }
        return (.passed, nil)
    }

    /// The module loader's own words when it refused the driver as built for another kernel.
    static func moduleRefusal(in consoleLines: [String]) -> String? {
        consoleLines.map(ConsoleText.stripPrintkPrefix).first { line in
            line.contains("version magic") || line.contains("disagrees about version of symbol")
        }
    }

    /// Why the kernel refused the module, when the console says so.
    static func moduleLoadProblem(in consoleLines: [String]) -> String? {
        for line in consoleLines.map(ConsoleText.stripPrintkPrefix) {
            if line.contains("Unknown symbol") || line.contains("Invalid module format") || line.contains("insmod: can't insert") {
                return line
            }
        }
        if let end = consoleLines.first(where: { $0.contains("dma-harness: suite end") }) {
            return ConsoleText.stripPrintkPrefix(end)
        }
        return nil
    }
}
