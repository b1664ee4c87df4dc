import Foundation

/// Escaping for XML and HTML text and attributes. Everything that came from a guest console or a
/// path goes through here: a guest can print any byte, and a report must not turn it into markup.
public enum Markup {
    /// Escapes `& < > " '` and replaces characters XML 1.0 forbids (C0 controls other than tab,
    /// newline and carriage return, e.g. the ESC of a terminal colour code) with U+FFFD, so the
    /// document stays well-formed whatever the console held. A carriage return is written `&#13;`:
    /// a parser turns a literal one into a newline.
    public static func escape(_ text: String) -> String {
        escape(text, keepingLiterally: ["\t", "\n"])
    }

    /// As `escape`, for an attribute value: tab and newline too are written as references, since a
    /// parser turns literal ones into spaces (XML's attribute-value normalization).
    public static func escapeAttribute(_ text: String) -> String {
        escape(text, keepingLiterally: [])
    }

    private static func escape(_ text: String, keepingLiterally literal: Set<Unicode.Scalar>) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r":
                if literal.contains(scalar) { out.unicodeScalars.append(scalar) } else { out += "&#\(scalar.value);" }
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `name="value"` pairs for a start tag, values escaped, in the order given.
    public static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escapeAttribute($0.1))\"" }.joined()
    }

    /// A path for an `href`: each segment percent-encoded, so a folder name cannot close the attribute
    /// or smuggle in a `javascript:` scheme.
    public static func relativeHref(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        }.joined(separator: "/")
        return escape(encoded)
    }
}
