import Foundation

/// Scans a console for panics, oopses, BUGs and WARNING splats.
public enum ConsoleScanner {
    static let excerptLength = 30
    /// Findings after this many keep only their own line: a guest printing a million WARNINGs must
    /// not cost thirty million excerpt lines.
    static let excerptedFindings = 50

    public static func findings(in console: String) -> [ConsoleFinding] {
        findings(in: ConsoleTranscript(text: console).lines)
    }

    /// Findings in a console's lines (`ConsoleTranscript`); `line` is the 1-based index into `consoleLines`.
    public static func findings(in consoleLines: [String]) -> [ConsoleFinding] {
        let lines = consoleLines.map(ConsoleText.stripPrintkPrefix)
        var findings: [ConsoleFinding] = []
        for (index, line) in lines.enumerated() {
            guard let kind = classify(line) else { continue }
            let length = findings.count < excerptedFindings ? excerptLength : 1
            let excerpt = Array(lines[index..<min(lines.count, index + length)])
            findings.append(ConsoleFinding(kind: kind, line: index + 1, summary: line, excerpt: excerpt))
        }
        return findings
    }

    /// edu's clamp reports in QEMU's own log (harness/PROTOCOL.md, "edu and QEMU").
    public static func eduClamps(inQEMULog text: String) -> [ConsoleFinding] {
        eduClamps(inQEMULog: ConsoleTranscript(text: text).lines)
    }

    /// The same in QEMU's log already split into lines.
    public static func eduClamps(inQEMULog lines: [String]) -> [ConsoleFinding] {
        lines.enumerated().compactMap { index, line in
            guard line.contains("EDU: clamping DMA") else { return nil }
            return ConsoleFinding(kind: .eduClamp, line: index + 1, summary: line, excerpt: [line], log: "qemu.log")
        }
    }

    static func classify(_ line: String) -> ConsoleFinding.Kind? {
        if line.hasPrefix("Kernel panic - not syncing") { return .panic }
        if line.hasPrefix("Internal error: Oops") || line.hasPrefix("Oops:") || line.contains("] Oops:")
            || line.hasPrefix("BUG: unable to handle") { return .oops }
        if line.hasPrefix("kernel BUG at") || line.hasPrefix("BUG: ") { return .bug }
        if line.hasPrefix("WARNING: CPU:") || line.hasPrefix("WARNING: at ") { return .warning }
        return nil
    }
}
