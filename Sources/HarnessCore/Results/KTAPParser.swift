import Foundation

/// Extracts KTAP version 1 (Documentation/dev-tools/ktap.rst) from a raw guest console, where it is
/// mixed with kernel messages and printk time prefixes. Works offline on a saved console, like the
/// kernel's kunit.py parser; an unfinished document (a guest that died) yields every test reported
/// before it, with the rest of the plan marked not run.
public struct KTAPParser {
    public init() {}

    private struct OpenSuite {
        var indent: Int
        var name: String?
        var plan: Int?
        var tests: [TestResult] = []
        var diagnostics: [String] = []
        var pendingValues: [String: [(String, String)]] = [:]
        var pendingLog: [String] = []
        var pendingStart: Int
    }

    /// Parses a console held in memory, read as `ConsoleTranscript` reads a file.
    public func parse(console: String) -> KTAPDocument {
        parse(lines: ConsoleTranscript(text: console).lines)
    }

    /// Parses a console's lines (`ConsoleTranscript`); line numbers in the results are 1-based indices into `lines`.
    public func parse(lines: [String]) -> KTAPDocument {
        var document = KTAPDocument(sawHeader: false, plannedSuites: nil, suites: [])
        var rootIndent: Int?
        var suite: OpenSuite?

        var lineNumber = 0
        for rawLine in lines {
            lineNumber += 1
            let line = ConsoleText.stripPrintkPrefix(rawLine)
            let indent = line.prefix { $0 == " " }.count
            let text = line.trimmingCharacters(in: .whitespaces)

            if text == "KTAP version 1" || text == "TAP version 14" {
                if rootIndent == nil {
                    rootIndent = indent
                    document.sawHeader = true
                } else if let root = rootIndent, indent > root {
                    if let open = suite { document.suites.append(close(open, number: document.suites.count + 1, result: nil)) }
                    suite = OpenSuite(indent: indent, pendingStart: lineNumber + 1)
                }
                continue
            }
            guard let root = rootIndent else { continue }
            // A subtest whose `KTAP version 1` line was lost (garbled bytes) opens at its next KTAP line, as in kunit.py.
            if suite == nil, indent > root, text.hasPrefix("# Subtest:") || Self.plan(text) != nil || ResultLine(text) != nil {
                suite = OpenSuite(indent: indent, pendingStart: lineNumber)
            }

            if var open = suite, indent == open.indent {
                if text.hasPrefix("# Subtest:") {
                    open.name = text.dropFirst("# Subtest:".count).trimmingCharacters(in: .whitespaces)
                } else if let plan = Self.plan(text) {
                    open.plan = plan
                } else if let result = ResultLine(text) {
                    let values = open.pendingValues.removeValue(forKey: result.name) ?? []
                    var test = makeTest(result, suite: open.name ?? "suite\(document.suites.count + 1)",
                                        values: values, log: open.pendingLog)
                    test.consoleLines = [open.pendingStart, lineNumber]
                    open.tests.append(test)
                    open.pendingLog = []
                    open.pendingStart = lineNumber + 1
                } else if text.hasPrefix("#") {
                    if let (test, values) = Self.testDiagnostic(text) {
                        open.pendingValues[test, default: []] += values
                    } else {
                        open.diagnostics.append(text)
                    }
                } else {
                    open.pendingLog.append(line)
                }
                suite = open
                continue
            }

            if indent == root {
                if let plan = Self.plan(text), document.plannedSuites == nil {
                    document.plannedSuites = plan
                } else if let result = ResultLine(text) {
                    document.suites.append(close(suite, number: result.number, result: result))
                    suite = nil
                }
                continue
            }
            // Anything else is a kernel message: keep it with the test it interrupted.
            if suite != nil, !text.isEmpty { suite!.pendingLog.append(line) }
        }
        if let open = suite { document.suites.append(close(open, number: document.suites.count + 1, result: nil)) }
        if let planned = document.plannedSuites {
            document.planMismatch = KTAPPlan.mismatch(planned: planned, reported: document.suites.map(\.number))
            document.suites += KTAPPlan.missingSuites(planned: planned, reported: document.suites)
        }
        return document
    }

    /// Turns an open suite into a result; without a result line the suite never finished.
    private func close(_ open: OpenSuite?, number: Int, result: ResultLine?) -> SuiteResult {
        let name = open?.name ?? result?.name ?? "suite\(number)"
        var tests = open?.tests ?? []
        let mismatch = open?.plan.flatMap { KTAPPlan.mismatch(planned: $0, reported: tests.map(\.number)) }
        if let plan = open?.plan, mismatch != nil {
            for missing in KTAPPlan.missingNumbers(planned: plan, reported: tests.map(\.number)) {
                tests.append(TestResult(id: "\(name).#\(missing)", suite: name, name: "#\(missing)", number: missing,
                                        status: .notRun, directive: nil, parameters: [:], observed: [:], log: []))
            }
        }
        return SuiteResult(
            name: name, number: number,
            status: result?.status ?? .notRun,
            directive: result?.directive,
            plannedTests: open?.plan,
            complete: result != nil,
            diagnostics: open?.diagnostics ?? [],
            tests: tests,
            planMismatch: mismatch)
    }

    private func makeTest(_ result: ResultLine, suite: String, values: [(String, String)], log: [String]) -> TestResult {
        var parameters: [String: String] = [:]
        var observed: [String: String] = [:]
        for (key, value) in values {
            if TestResult.parameterKeys.contains(key) { parameters[key] = value } else { observed[key] = value }
        }
        return TestResult(id: "\(suite).\(result.name)", suite: suite, name: result.name, number: result.number,
                          status: result.status, directive: result.directive,
                          parameters: parameters, observed: observed, log: log)
    }

    /// `1..N`
    /// `1..N`, optionally followed by a `# comment` (ktap.rst); anything else after the count means
    /// the line is not a plan (a console that merged lines, a mangled print), not a plan of N.
    static func plan(_ text: String) -> Int? {
        guard text.hasPrefix("1..") else { return nil }
        let rest = text.dropFirst(3)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        let after = rest.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, after.isEmpty || after.hasPrefix("#") else { return nil }
        return Int(digits)
    }

    /// `# <test>: key=value key=value` -> (test, pairs). Lines without `=` pairs are not test values.
    static func testDiagnostic(_ text: String) -> (String, [(String, String)])? {
        let body = text.dropFirst().trimmingCharacters(in: .whitespaces)
        guard let colon = body.range(of: ":") else { return nil }
        let test = String(body[..<colon.lowerBound])
        guard !test.isEmpty, !test.contains(" ") else { return nil }
        let pairs = body[colon.upperBound...].split(separator: " ").compactMap { word -> (String, String)? in
            let halves = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return halves.count == 2 && !halves[0].isEmpty ? (String(halves[0]), String(halves[1])) : nil
        }
        return pairs.isEmpty ? nil : (test, pairs)
    }
}

/// `ok 3 name # SKIP reason` / `not ok 4 name`
struct ResultLine {
    var status: TestStatus
    var number: Int
    var name: String
    var directive: String?

    init?(_ text: String) {
        let passed: Bool
        var rest: Substring
        if text.hasPrefix("ok ") {
            passed = true
            rest = text.dropFirst(3)
        } else if text.hasPrefix("not ok ") {
            passed = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        let digits = rest.prefix { $0.isNumber }
        guard let number = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        var description = rest.trimmingCharacters(in: .whitespaces)
        if description.hasPrefix("-") { description = String(description.dropFirst()).trimmingCharacters(in: .whitespaces) }
        var directive: String?
        if let hash = description.range(of: " #") ?? (description.hasPrefix("#") ? description.range(of: "#") : nil) {
            directive = description[hash.upperBound...].trimmingCharacters(in: .whitespaces)
            description = description[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
        }
        self.number = number
        self.name = description
        self.directive = directive
        if let directive, directive.uppercased().hasPrefix("SKIP") {
            self.status = .skip
        } else {
            self.status = passed ? .pass : .fail
        }
    }
}
