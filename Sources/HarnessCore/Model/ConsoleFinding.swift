import Foundation

/// A sign of kernel trouble on the console: the evidence behind a crashed or warned target.
public struct ConsoleFinding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case panic, oops, bug, warning
        /// QEMU's edu clamped a DMA address to its mask: a transfer went outside what the device can reach.
        case eduClamp = "edu_clamp"
    }

    public var kind: Kind
    /// 1-based line number in console.log.
    public var line: Int
    /// The line that announced it, without the time prefix.
    public var summary: String
    /// The lines that follow it (register dump, call trace), capped.
    public var excerpt: [String]
    /// The log the line number refers to, when it is not console.log (`qemu.log`).
    public var log: String? = nil
}
