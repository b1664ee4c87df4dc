import Foundation
@testable import HarnessCore
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Hostile strings, a real console with them injected, and independent readers of each rendering
/// (Python's html.parser, libxml2 through XMLDocument, a CommonMark code-span and table reader)
/// that say what a browser, a CI system or GitHub would make of it.
enum Hostile {
    /// A test name: every metacharacter, no space or colon (a name ends at either in a diagnostic line).
    static let name = "none_2097152<script>alert(1)</script></td>|&\"'`x`*_em_*[x](evil.html)]]>\u{1b}[31m\u{07}"
    /// A `key=value` value: no space, but a colon, a CR and a form feed inside.
    static let value = "misaligned<img/src=x/onerror=alert(1)></td>|``[x](javascript:alert(1))]]>&\"'\u{1b}[0m\r\u{0c}\u{2028}end"
    /// Kernel messages the scanner turns into findings.
    static let warning = "WARNING: CPU: 0 PID: 1 at <script>alert(2)</script> </td> | `x` [x](javascript:alert(2)) ]]> & \" ' *b* _i_ \u{1b}[31m mm/x.c:1"
    static let bug = "BUG: kernel NULL pointer dereference <img src=x onerror=alert(3)> ]]> | ``` ` [y](javascript:alert(3)) \u{1b}]0;retitled\u{07}\u{9b}2J"

    /// The recorded arm64-direct console with the hostile strings in it: the first failing test
    /// renamed, its `reason` value replaced, a BUG and a WARNING printed inside its span, and the
    /// variant the guest announces (which names the target) made hostile too.
    static func console() throws -> String {
        try console(name: name, value: value, warning: warning, bug: bug, variant: "<b>x</b>|`")
    }

    /// The same edits with harmless strings: what the hostile console's renderings are compared with.
    static func benignConsole() throws -> String {
        try console(name: "none_2097152_renamed", value: "misaligned_extended", warning: "WARNING: CPU: 0 PID: 1 at mm/x.c:1",
                    bug: "BUG: kernel NULL pointer dereference", variant: "direct")
    }

    static func console(name: String, value: String, warning: String, bug: String, variant: String) throws -> String {
        var lines = lines(of: try Fixture.console("arm64-direct"))
        let diag = try index(of: "    # none_2097152: ", in: lines)
        let result = try index(of: "    not ok 10 none_2097152", in: lines)
        lines[diag] = lines[diag].replacingOccurrences(of: "# none_2097152:", with: "# \(name):")
            .replacingOccurrences(of: "reason=misaligned_cpu+misaligned\r", with: "reason=\(value)\r")
        lines[result] = lines[result].replacingOccurrences(of: "none_2097152", with: name)
        // The BUG first, so that its excerpt (the lines after it) carries the WARNING too.
        lines.insert(contentsOf: ["[    0.894000] \(bug)\r", "[    0.894001] \(warning)\r"], at: diag)
        let discovery = try index(of: "# device_facts: variant=direct", in: lines)
        lines[discovery] = lines[discovery].replacingOccurrences(of: "variant=direct", with: "variant=\(variant)")
        return lines.joined(separator: "\n")
    }

    /// A console's lines split on LF only (Swift's own splitting takes CR LF as one character).
    static func lines(of console: String) -> [String] {
        console.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    static func index(of fragment: String, in lines: [String]) throws -> Int {
        guard let index = lines.firstIndex(where: { $0.contains(fragment) }) else {
            throw HostileFixtureError("the fixture has no line with \(fragment)")
        }
        return index
    }

    /// The one-target report `harness parse` makes of `console` saved at `folder/arm64-direct/console.log`.
    static func report(console: String, in folder: URL) throws -> RunReport {
        let file = folder.appendingPathComponent("arm64-direct/console.log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(console.utf8).write(to: file)
        return try report(consoleFile: file, in: folder)
    }

    static func report(consoleFile file: URL, in folder: URL) throws -> RunReport {
        ConsoleReplay.report(transcript: try ConsoleTranscript.read(from: file), consolePath: "arm64-direct/console.log",
                             arch: "arm64", variant: nil, catalog: nil)
    }

    static func scratchFolder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// What an XML or HTML reader must see of `text` after escaping: the characters XML 1.0 forbids replaced.
    static func xmlVisible(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            let allowed = scalar.value >= 0x20 && scalar.value != 0x7F || [0x09, 0x0A, 0x0D].contains(scalar.value)
            return allowed ? scalar : "\u{FFFD}"
        }))
    }
}

struct HostileFixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An HTML document as Python's html.parser reads it (the way a browser tokenizes it): every
/// element with its attributes, the text, and the contents of each `<script>`.
struct ParsedHTML: Decodable {
    var tags: [[String]]
    var attributes: [[String]]
    var text: String
    var scripts: [String]

    var tagNames: Set<String> { Set(tags.map { $0[0] }) }
    var attributeNames: Set<String> { Set(attributes.map { $0[0] }) }

    static let reader = """
    import json, sys
    from html.parser import HTMLParser
    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tags, self.attributes, self.text, self.scripts, self.in_script = [], [], [], [], False
        def handle_starttag(self, tag, attrs):
            self.tags.append([tag])
            self.attributes += [[name, value or ""] for name, value in attrs]
            if tag == "script":
                self.in_script = True
                self.scripts.append("")
        def handle_startendtag(self, tag, attrs):
            self.tags.append([tag])
            self.attributes += [[name, value or ""] for name, value in attrs]
        def handle_endtag(self, tag):
            if tag == "script": self.in_script = False
        def handle_data(self, data):
            if self.in_script: self.scripts[-1] += data
            else: self.text.append(data)
    reader = Reader()
    reader.feed(open(sys.argv[1], encoding="utf-8").read())
    reader.close()
    print(json.dumps({"tags": reader.tags, "attributes": reader.attributes, "text": "".join(reader.text), "scripts": reader.scripts}))
    """

    static func parse(_ html: String) throws -> ParsedHTML {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).html")
        try Data(html.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try Subprocess.run("python3", ["-c", reader, file.path])
        guard outcome.succeeded else { throw HostileFixtureError("html.parser failed: \(outcome.standardError)") }
        return try JSONDecoder().decode(ParsedHTML.self, from: Data(outcome.standardOutput.utf8))
    }
}

/// Markdown as CommonMark and GitHub's tables read it, for what matters here: which text is inside
/// code spans, what is left outside them, and how many cells each table row has.
struct ParsedMarkdown {
    /// The content of every code span, as CommonMark shows it.
    var codeSpans: [String] = []
    /// Each line with its code spans taken out, backslash escapes kept.
    var outside: [String] = []
    /// Per table (consecutive lines starting with `|`), the cell count of each row.
    var tableRows: [[Int]] = []

    init(_ markdown: String) {
        var table: [Int] = []
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("|") {
                table.append(Self.cellCount(line))
            } else if !table.isEmpty {
                tableRows.append(table)
                table = []
            }
            let (spans, rest) = Self.splitCodeSpans(line)
            codeSpans += spans
            outside.append(rest)
        }
        if !table.isEmpty { tableRows.append(table) }
    }

    /// GitHub splits a row at every `|` not escaped by a backslash, code spans or not.
    static func cellCount(_ row: String) -> Int {
        var count = 0, escaped = false
        for character in row {
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true } else if character == "|" { count += 1 }
        }
        return count - 1
    }

    /// CommonMark: a run of N backticks opens a span that the next run of exactly N closes; outside
    /// spans a backslash escapes the next character; inside, nothing is an escape.
    static func splitCodeSpans(_ line: String) -> (spans: [String], rest: String) {
        let characters = Array(line)
        var spans: [String] = []
        var rest = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count {
                rest += String(characters[index...index + 1])
                index += 2
                continue
            }
            guard character == "`" else {
                rest.append(character)
                index += 1
                continue
            }
            let run = characters[index...].prefix { $0 == "`" }.count
            if let close = closingRun(of: run, in: characters, from: index + run) {
                var content = String(characters[(index + run)..<close])
                if content.hasPrefix(" "), content.hasSuffix(" "), content.count > 1, !content.allSatisfy({ $0 == " " }) {
                    content = String(content.dropFirst().dropLast())
                }
                spans.append(content)
                rest += "<code>"
                index = close + run
            } else {
                rest += String(repeating: "`", count: run)
                index += run
            }
        }
        return (spans, rest)
    }

    static func closingRun(of length: Int, in characters: [Character], from start: Int) -> Int? {
        var index = start
        while index < characters.count {
            guard characters[index] == "`" else { index += 1; continue }
            let run = characters[index...].prefix { $0 == "`" }.count
            if run == length { return index }
            index += run
        }
        return nil
    }

    /// `[text](destination)` links outside code spans, escapes honoured.
    var links: [(text: String, destination: String)] {
        outside.flatMap { line -> [(text: String, destination: String)] in
            let pattern = try! NSRegularExpression(pattern: #"(?<!\\)\[([^\]]*)\]\(([^)]*)\)"#)
            return pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)).map { match in
                (String(line[Range(match.range(at: 1), in: line)!]), String(line[Range(match.range(at: 2), in: line)!]))
            }
        }
    }

    /// Lines with characters outside code spans that Markdown would read as syntax, unescaped: `<`
    /// (HTML) and `[` (a link), once the report's own links (their text accepted by `ownLink`) are taken out.
    func unescapedMarkup(ownLink: (String) -> Bool) -> [String] {
        let link = try! NSRegularExpression(pattern: #"(?<!\\)\[([^\]]*)\]\(([^)]*)\)"#)
        return outside.filter { line in
            var text = line.replacingOccurrences(of: "<code>", with: "")
            for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed()
            where ownLink(String(text[Range(match.range(at: 1), in: text)!])) {
                text.replaceSubrange(Range(match.range, in: text)!, with: "")
            }
            var escaped = false
            for character in text {
                if escaped { escaped = false; continue }
                if character == "\\" { escaped = true } else if character == "<" || character == "[" { return true }
            }
            return false
        }
    }
}

/// A JUnit or domain XML document read back by libxml2 (FoundationXML).
enum ParsedXML {
    static func document(_ xml: String) throws -> XMLDocument {
        try XMLDocument(xmlString: xml)
    }

    /// Values of attribute `name` on every element `element`.
    static func attributeValues(_ document: XMLDocument, element: String, attribute: String) throws -> [String] {
        try document.nodes(forXPath: "//\(element)/@\(attribute)").compactMap(\.stringValue)
    }
}
