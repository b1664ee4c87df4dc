import Foundation

/// What the host left out of a console because it was over a limit (`ConsoleLimits`): recorded
/// in the target's report, so a reader knows the results rest on part of the console only.
public struct ConsoleCut: Codable, Sendable, Equatable {
    /// The console's size.
    public var totalBytes: Int
    /// Bytes read from its start; less than `totalBytes` when the console was over a limit.
    public var readBytes: Int
    /// Lines read.
    public var readLines: Int
    /// Lines longer than `lineByteLimit`, each cut there (with a marker).
    public var cutLines: Int
    /// The 1-based number of the first cut line, if any.
    public var firstCutLine: Int?
    /// The limits in force.
    public var byteLimit: Int
    public var lineLimit: Int
    public var lineByteLimit: Int

    /// Whether reading stopped before the end of the console.
    public var stoppedEarly: Bool { readBytes < totalBytes }

    /// One line for a reason or a rendering: what was left out.
    public var summary: String {
        var parts: [String] = []
        if stoppedEarly {
            parts.append("read the first \(readBytes) of \(totalBytes) bytes (\(readLines) lines; limits \(byteLimit) bytes, \(lineLimit) lines)")
        }
        if cutLines > 0 {
            parts.append("\(cutLines) line(s) longer than \(lineByteLimit) bytes cut, the first at line \(firstCutLine ?? 0)")
        }
        return "console cut: " + parts.joined(separator: "; ")
    }
}
