import Foundation

/// Extracts KTAP version 1 (Documentation/dev-tools/ktap.rst) from a raw guest console, where it is
/// mixed with kernel messages and printk time prefixes. Works offline on a saved console, like the
/// kernel's kunit.py parser; an unfinished document (a guest that died) yields every test reported
/// before it, with the rest of the plan marked not run.
public struct KTAPParser {
    /// The most not-run tests one suite lists for the unreported rest of its plan. The guest
    /// driver's largest plan is dma_alloc's 159; a plan line mangled on the console
    /// (`1..16777216`) must not make the host allocate a test for every number it names.
    static let maxNotRunListed = 1_000

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

    public func parse(console: String) -> KTAPDocument {
        var document = KTAPDocument(sawHeader: false, plannedSuites: nil, suites: [])
        var rootIndent: Int?
        var suite: OpenSuite?

        var lineNumber = 0
        for rawLine in console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = ConsoleText.stripPrintkPrefix(String(rawLine))
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

            // Taken out of `suite` while it is changed, so that its lists are not copied on every line.
            if suite?.indent == indent, var open = suite.take() {
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
        return document
    }

    /// Turns an open suite into a result; without a result line the suite never finished.
    private func close(_ open: OpenSuite?, number: Int, result: ResultLine?) -> SuiteResult {
        let name = open?.name ?? result?.name ?? "suite\(number)"
        var tests = open?.tests ?? []
        if let plan = open?.plan, tests.count < plan {
            for missing in (tests.count + 1)...min(plan, tests.count + Self.maxNotRunListed) {
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
            tests: tests)
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
    static func plan(_ text: String) -> Int? {
        guard text.hasPrefix("1..") else { return nil }
        return Int(text.dropFirst(3).prefix { $0.isNumber })
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
