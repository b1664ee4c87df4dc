import Foundation

/// A sign of kernel trouble on the console: the evidence behind a crashed or warned target.
public struct ConsoleFinding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case panic, oops, bug, warning }

    public var kind: Kind
    /// 1-based line number in console.log.
    public var line: Int
    /// The line that announced it, without the time prefix.
    public var summary: String
    /// The lines that follow it (register dump, call trace), capped.
    public var excerpt: [String]
}

/// Scans a console for panics, oopses, BUGs and WARNING splats.
public enum ConsoleScanner {
    static let excerptLength = 30

    public static func findings(in console: String) -> [ConsoleFinding] {
        let lines = console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { ConsoleText.stripPrintkPrefix(String($0)) }
        var findings: [ConsoleFinding] = []
        for (index, line) in lines.enumerated() {
            guard let kind = classify(line) else { continue }
            let excerpt = Array(lines[index..<min(lines.count, index + excerptLength)])
            findings.append(ConsoleFinding(kind: kind, line: index + 1, summary: line, excerpt: excerpt))
        }
        return findings
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
