import Foundation

/// Guest text made safe for a place that shows one line of characters: a terminal, a Markdown
/// line, a table cell. A guest can print an escape sequence (`ESC ] 0 ; ... BEL` retitles a
/// terminal) or a line break; neither may reach a reader as anything but a visible character.
public enum PrintableText {
    /// Tabs and line breaks (LF, CR, VT, FF, NEL, U+2028, U+2029) become spaces; other control
    /// characters (C0, DEL, C1) become U+FFFD.
    public static func line(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar.value {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: return " "
            case 0..<0x20, 0x7F, 0x80..<0xA0: return "\u{FFFD}"
            default: return scalar
            }
        }))
    }
}
