import Foundation

/// Helpers for reading a raw serial console.
public enum ConsoleText {
    /// Removes printk's `[    1.234567] ` time prefix and a trailing carriage return.
    public static func stripPrintkPrefix(_ line: String) -> String {
        var text = Substring(line)
        if text.hasSuffix("\r") { text = text.dropLast() }
        guard text.first == "[", let close = text.firstIndex(of: "]") else { return String(text) }
        let stamp = text[text.index(after: text.startIndex)..<close].trimmingCharacters(in: .whitespaces)
        guard !stamp.isEmpty, stamp.allSatisfy({ $0.isNumber || $0 == "." }) else { return String(text) }
        var rest = text[text.index(after: close)...]
        if rest.first == " " { rest = rest.dropFirst() }
        return String(rest)
    }
}
