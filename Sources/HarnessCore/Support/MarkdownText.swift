import Foundation

/// Escaping for GitHub-flavoured Markdown (CommonMark plus tables). Guest text and paths go
/// through here before they reach a Markdown report: a guest can print `|`, backticks, `[x](...)`
/// or HTML, and none of it may become a table column, a code span's end, a link or an element.
public enum MarkdownText {
    /// Text in a paragraph, a list item or a table cell: shown as the characters it holds.
    /// HTML's `& < >` become entities; the characters that start Markdown syntax are backslash-escaped
    /// (`_` only where it could start emphasis: `GFP_KERNEL` stays as it is); line breaks and tabs
    /// become spaces, other control characters U+FFFD.
    public static func prose(_ text: String) -> String {
        let scalars = Array(plain(text).unicodeScalars)
        var out = ""
        out.reserveCapacity(scalars.count)
        for (index, scalar) in scalars.enumerated() {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "[", "]", "|", "~": out += "\\" + String(scalar)
            case "_":
                let inWord = index > 0 && index + 1 < scalars.count && isWordCharacter(scalars[index - 1])
                    && isWordCharacter(scalars[index + 1])
                out += inWord ? "_" : "\\_"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return escapingBlockStart(out)
    }

    /// A code span holding `text` exactly (outside a table): fenced by more backticks than any run
    /// inside, padded when the text starts or ends with a backtick or a space, so nothing inside can close it.
    public static func code(_ text: String) -> String {
        let content = plain(text)
        guard !content.isEmpty else { return "` `" }
        let fence = String(repeating: "`", count: longestBacktickRun(content) + 1)
        let pad = content.first == "`" || content.last == "`" || content.first == " " || content.last == " " ? " " : ""
        return fence + pad + content + pad + fence
    }

    /// A code span inside a table cell: as `code`, with `|` escaped, which GitHub's table parser
    /// requires even inside code spans (and shows as `|`).
    public static func tableCode(_ text: String) -> String {
        code(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// A relative path as a link destination: each segment percent-encoded, so a space, `(`, `)`,
    /// `<` or a newline cannot end the link or start another.
    public static func destination(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
            .joined(separator: "/")
    }

    /// RFC 3986's unreserved characters, ASCII only.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// One line of printable text (`PrintableText.line`).
    static func plain(_ text: String) -> String { PrintableText.line(text) }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0, run = 0
        for character in text.unicodeScalars {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        CharacterSet.alphanumerics.contains(scalar)
    }

    /// Text that opens a line must not read as a heading, a list item or a rule (`# x`, `- x`, `1. x`).
    static func escapingBlockStart(_ text: String) -> String {
        guard let first = text.first else { return text }
        if "#-+=".contains(first) { return "\\" + text }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, let after = text.dropFirst(digits.count).first, after == "." || after == ")" {
            return digits + "\\" + text.dropFirst(digits.count)
        }
        return text
    }
}
