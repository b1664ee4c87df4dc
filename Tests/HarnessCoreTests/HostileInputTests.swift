import Foundation
import Testing
@testable import HarnessCore
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Guest strings full of HTML, Markdown and XML metacharacters, driven through the real path
/// (console file -> ConsoleTranscript -> KTAPParser/ResultCollector -> TargetReport -> renderer),
/// and each rendering read back by a reader of its own format.
@Suite("hostile guest strings")
struct HostileInputTests {
    /// The hostile report, and the clean one it was made from, with their consoles beside them.
    struct Reports {
        var hostile: RunReport
        var clean: RunReport
        var folder: URL
        var cleanFolder: URL
        var target: TargetReport { hostile.targets[0] }
        var renamed: TestResult { target.allTests.first { $0.name == Hostile.name }! }
    }

    func reports() throws -> Reports {
        let folder = try Hostile.scratchFolder("strings")
        let cleanFolder = try Hostile.scratchFolder("clean")
        let hostile = try Hostile.report(console: try Hostile.console(), in: folder)
        let clean = try Hostile.report(console: try Hostile.benignConsole(), in: cleanFolder)
        return Reports(hostile: hostile, clean: clean, folder: folder, cleanFolder: cleanFolder)
    }

    func cleanUp(_ reports: Reports) {
        try? FileManager.default.removeItem(at: reports.folder)
        try? FileManager.default.removeItem(at: reports.cleanFolder)
    }

    @Test("the hostile strings reach the report intact: test name, value, findings; the announced variant is not taken as a name")
    func reachTheReport() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let target = reports.target
        #expect(target.id == "arm64-direct", "a hostile variant= is not made part of the target id")
        #expect(target.id.range(of: "^[A-Za-z0-9_]+-[A-Za-z0-9_]+$", options: .regularExpression) != nil, "the schema's id pattern")
        let test = try #require(target.allTests.first { $0.name == Hostile.name })
        #expect(test.status == .fail && test.observed["reason"] == Hostile.value)
        #expect(target.findings.contains { $0.kind == .warning && $0.summary == Hostile.warning })
        let bug = try #require(target.findings.first { $0.kind == .bug })
        #expect(bug.summary == Hostile.bug && bug.excerpt.contains(Hostile.warning))
        let span = try #require(test.consoleLines)
        #expect(target.findings.filter { (span[0]...span[1]).contains($0.line) }.count == 2, "both inside the test's span")
        #expect(target.status == .crashed && target.reason?.contains(Hostile.bug) == true)
        #expect(target.allTests.count == reports.clean.targets[0].allTests.count, "no test lost")
    }

    @Test("HTML: no element or attribute comes from guest text, the only script is the report's own, and the text shows as text")
    func html() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let html = HTMLReport.render(reports.hostile, reportFolder: reports.folder)
        let parsed = try ParsedHTML.parse(html)
        let clean = try ParsedHTML.parse(HTMLReport.render(reports.clean, reportFolder: reports.cleanFolder))

        #expect(parsed.tagNames.isSubset(of: clean.tagNames), "extra elements: \(parsed.tagNames.subtracting(clean.tagNames))")
        #expect(parsed.attributeNames.isSubset(of: clean.attributeNames),
                "extra attributes: \(parsed.attributeNames.subtracting(clean.attributeNames))")
        #expect(parsed.scripts == clean.scripts && parsed.scripts.count == 1, "only the report's own script")
        #expect(!parsed.attributeNames.contains { $0.hasPrefix("on") } && !parsed.attributeNames.contains("src"))
        let hrefs = parsed.attributes.filter { $0[0] == "href" }.map { $0[1] }
        #expect(!hrefs.isEmpty && hrefs.allSatisfy { $0.hasPrefix("#") || $0.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) == nil },
                "no href with a scheme")
        // Shown, as the characters they are: the test table, the finding, the console excerpt.
        for text in [Hostile.name, Hostile.value, Hostile.warning, Hostile.bug] {
            #expect(parsed.text.contains(Hostile.xmlVisible(text)), "\(text.debugDescription) shown as text")
        }
    }

    @Test("Markdown: tables keep their columns, no HTML or link from guest text, code spans hold their text")
    func markdown() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let markdown = MarkdownReport.render(reports.hostile)
        let parsed = ParsedMarkdown(markdown)

        #expect(!parsed.tableRows.isEmpty)
        for rows in parsed.tableRows { #expect(Set(rows).count == 1, "every row has the header's cell count: \(rows)") }
        let ownLinks = try NSRegularExpression(pattern: "^(console\\.log|qemu\\.log|line [0-9]+|lines [0-9]+–[0-9]+)$")
        func isOwn(_ text: String) -> Bool { ownLinks.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
        #expect(parsed.unescapedMarkup(ownLink: isOwn).isEmpty, "\(parsed.unescapedMarkup(ownLink: isOwn))")
        for link in parsed.links where isOwn(link.text) {
            #expect(link.destination.range(of: "^[A-Za-z0-9._~%/-]+(#L[0-9]+)?$", options: .regularExpression) != nil,
                    "link destination \(link.destination)")
        }
        // Each code span holds exactly the guest's text (control characters shown as U+FFFD, line breaks
        // as spaces). Markdown lists the findings that are no warning.
        let test = reports.renamed
        for text in [test.id, test.evidenceSummary, Hostile.bug] {
            #expect(parsed.codeSpans.contains(MarkdownText.plain(text)), "\(text.debugDescription) in one code span")
        }
        #expect(!markdown.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "no control character")
    }

    @Test("the terminal table: no escape sequence or line break from the guest reaches the terminal")
    func terminalTable() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let table = SummaryTable.render(reports.hostile)
        #expect(!table.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) })
        #expect(table.contains(PrintableText.line(Hostile.bug)), "the reason is shown")
        #expect(table.split(separator: "\n").count == SummaryTable.render(reports.clean).split(separator: "\n").count)
    }

    @Test("Markdown prose: every metacharacter escaped, and unescaping gives the text back")
    func markdownProse() {
        for text in [Hostile.name, Hostile.value, Hostile.warning, Hostile.bug, "# heading", "- item", "12. item", "a_b _c_ d__e"] {
            let prose = MarkdownText.prose(text)
            #expect(Self.unescapeMarkdown(prose) == MarkdownText.plain(text), "\(text.debugDescription) -> \(prose)")
            let parsed = ParsedMarkdown(prose)
            #expect(parsed.codeSpans.isEmpty && parsed.unescapedMarkup(ownLink: { _ in false }).isEmpty, "\(prose)")
            #expect(ParsedMarkdown.cellCount("| " + prose + " |") == 1, "one table cell")
        }
        #expect(MarkdownText.prose("GFP_KERNEL|__GFP_DMA") == "GFP_KERNEL\\|\\_\\_GFP_DMA", "an underscore inside a word stays")
    }

    /// CommonMark's reading of escaped prose: a backslash before punctuation and the three entities.
    static func unescapeMarkdown(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped { out.append(character); escaped = false } else if character == "\\" { escaped = true } else { out.append(character) }
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test("Markdown code spans: no backtick run, leading or trailing backtick or space escapes the span")
    func markdownCodeSpans() {
        for text in ["`", "``", "a`b", "`a", "a`", " a ", "x ``` y", "|", Hostile.name, Hostile.bug] {
            let spans = ParsedMarkdown.splitCodeSpans("before " + MarkdownText.code(text) + " after")
            #expect(spans.spans == [MarkdownText.plain(text)], "\(text.debugDescription) -> \(MarkdownText.code(text))")
            #expect(spans.rest == "before <code> after")
            let cell = ParsedMarkdown.cellCount("| " + MarkdownText.tableCode(text) + " | x |")
            #expect(cell == 2, "a table code span is one cell")
        }
    }

    @Test("JUnit: well formed XML 1.0, every guest string read back as an attribute or text, forbidden characters replaced")
    func junit() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let xml = JUnitReport.render(reports.hostile)
        #expect(XMLParser(data: Data(xml.utf8)).parse(), "Foundation's XMLParser accepts it")
        let document = try ParsedXML.document(xml)
        let test = reports.renamed
        #expect(try ParsedXML.attributeValues(document, element: "testcase", attribute: "name").contains(Hostile.xmlVisible(test.name)))
        let messages = try ParsedXML.attributeValues(document, element: "failure", attribute: "message")
        #expect(messages.contains(Hostile.xmlVisible(test.evidenceSummary)), "the evidence, exactly, CR and form feed included")
        let bodies = try document.nodes(forXPath: "//failure").compactMap(\.stringValue)
        #expect(bodies.contains { $0.contains(Hostile.xmlVisible(Hostile.bug)) && $0.contains(Hostile.xmlVisible(Hostile.warning)) },
                "the boot case's finding and its excerpt")
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && !["\t", "\n", "\r"].contains($0) })
    }

    @Test("KCIDB and report.json: valid JSON whose strings round-trip exactly")
    func json() throws {
        let reports = try reports()
        defer { cleanUp(reports) }
        let test = reports.renamed
        let kcidb = try #require(try JSONSerialization.jsonObject(with: try KCIDBReport.render(reports.hostile)) as? [String: Any])
        let tests = try #require(kcidb["tests"] as? [[String: Any]])
        let node = try #require(tests.first { ($0["path"] as? String) == "dma_harness.dma_alloc.\(KCIDBReport.pathSafe(test.name))" })
        let observed = try #require((node["misc"] as? [String: Any])?["observed"] as? [String: String])
        #expect(observed["reason"] == Hostile.value)
        let summary = try #require(tests.first { ($0["path"] as? String) == "dma_harness" })
        #expect((summary["log_excerpt"] as? String)?.contains(Hostile.bug + "\n" + Hostile.warning) == true, "the finding, exactly")
        #expect((summary["comment"] as? String)?.contains(Hostile.bug) == true)
        #expect((node["path"] as? String)?.range(of: "^[a-zA-Z0-9_.-]+$", options: .regularExpression) != nil)

        let decoded = try RunReport.reportDecoder.decode(RunReport.self, from: try reports.hostile.encodedJSON())
        #expect(decoded.targets[0].suites == reports.target.suites)
        #expect(decoded.targets[0].findings == reports.target.findings)
    }
}

/// NUL bytes, invalid UTF-8 and CR LF in the console: the real console read from a file, with the
/// bytes written in, must parse to the clean console's results.
@Suite("console bytes")
struct ConsoleBytesTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func collect(_ bytes: [UInt8]) throws -> CollectedResults {
        let folder = try Hostile.scratchFolder("bytes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("console.log")
        try Data(bytes).write(to: file)
        return try ResultCollector.collect(consoleLog: file, qemuLog: nil, ending: .poweredOff, detail: "powered off")
    }

    @Test("CR LF, LF and CR CR LF line endings give the same results, line numbers included",
          arguments: ["arm-direct", "arm64-direct", "x86_64-direct", "arm64-panic"])
    func lineEndings(name: String) throws {
        let recorded = try Fixture.console(name)
        #expect(recorded.contains("\r\n"), "the recorded console ends lines with CR LF")
        let lf = recorded.replacingOccurrences(of: "\r\n", with: "\n")
        let doubled = lf.replacingOccurrences(of: "\n", with: "\r\r\n")
        let results = try [recorded, lf, doubled].map { try collect(Self.bytes($0)) }
        #expect(results[0].document == results[1].document && results[1].document == results[2].document)
        #expect(results[0].findings == results[1].findings && results[1].findings == results[2].findings)
        #expect(results[0].status == results[1].status && results[0].reason == results[1].reason)
        #expect(results[1].document.allTests.filter { $0.status != .notRun }.count == Fixture.rawResultLines(lf, indent: 4).count)
    }

    @Test("NULs and invalid UTF-8 inside and between KTAP lines: nothing crashes, no test is lost, the bytes come out replaced")
    func badBytes() throws {
        let clean = try Fixture.console("arm64-direct")
        var lines = Hostile.lines(of: clean).map(Self.bytes)
        func edit(_ fragment: String, _ change: (inout [UInt8]) -> Void) throws {
            let index = try Hostile.index(of: fragment, in: Hostile.lines(of: clean))
            change(&lines[index])
        }
        let invalid: [UInt8] = [0xFF, 0xFE, 0xC0, 0xAF, 0xE2, 0x82, 0x80, 0xED, 0xA0, 0x80]
        // NULs before a result line's indent and inside its name; invalid bytes inside a value and at a line's end.
        try edit("    ok 3 none_4096") { $0.insert(contentsOf: [0, 0], at: 15); $0.insert(0, at: $0.count - 3) }
        try edit("    # none_4097: ") { line in
            let at = line.firstIndex(of: UInt8(ascii: "=")).map { $0 + 1 } ?? line.count
            line.insert(contentsOf: invalid, at: at)
            line.insert(contentsOf: [0xE2, 0x82], at: line.count - 1)
        }
        // A suite's `KTAP version 1` garbled, and a line of nothing but bad bytes between two tests.
        try edit("    KTAP version 1") { $0.insert(contentsOf: [0xFF, 0x00, 0xFE], at: 15) }
        let after = try Hostile.index(of: "    ok 5 none_12288", in: Hostile.lines(of: clean))
        lines.insert(invalid + [0, 0, 0x0D] + invalid, at: after + 1)
        let damaged = Array(lines.joined(separator: [0x0A]))

        let reference = ResultCollector.collect(console: clean, ending: .poweredOff, detail: "powered off")
        let collected = try collect(damaged)
        let ids = { (results: CollectedResults) in results.document.allTests.map(\.id) }
        #expect(ids(collected) == ids(reference), "every test, in order")
        #expect(collected.document.allTests.map(\.status) == reference.document.allTests.map(\.status))
        #expect(collected.document.isComplete == reference.document.isComplete)
        #expect(collected.status == reference.status)
        let damagedTest = try #require(collected.document.allTests.first { $0.name == "none_4097" })
        #expect(damagedTest.observed.values.contains { $0.contains("\u{FFFD}") } || damagedTest.parameters.values.contains { $0.contains("\u{FFFD}") })
        #expect(!collected.document.allTests.contains { test in (test.observed.values.joined() + test.name).contains("\0") }, "NULs dropped")

        let folder = try Hostile.scratchFolder("bytes-report")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("arm64-direct/console.log")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(damaged).write(to: file)
        let rendered = try Hostile.report(consoleFile: file, in: folder)
        #expect(rendered.targets[0].allTests.map(\.id) == ids(reference))
        // What the renderers read of the console for a test's excerpt has the bad bytes replaced, the NULs gone.
        let span = try #require(damagedTest.consoleLines)
        let excerpt = try #require(ConsoleExcerpts(reportFolder: folder).lines(of: rendered.targets[0], span: span))
        #expect(excerpt.joined().contains("\u{FFFD}") && !excerpt.joined().contains("\0"))
        let xml = JUnitReport.render(rendered)
        #expect(XMLParser(data: Data(xml.utf8)).parse(), "JUnit well formed")
        let json = try KCIDBReport.render(rendered)
        #expect(try JSONSerialization.jsonObject(with: json) is [String: Any])
        #expect(!String(decoding: json, as: UTF8.self).contains("\\u0000"))
        #expect(!MarkdownReport.render(rendered).unicodeScalars.contains { $0.value == 0 })
        #expect(!HTMLReport.render(rendered, reportFolder: folder).unicodeScalars.contains { $0.value == 0 })
    }
}
