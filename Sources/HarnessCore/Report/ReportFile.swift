import Foundation

/// Reading and writing `report.json` outside a run: the renderers, `compare`, `merge` and `parse`
/// all start from a file a user names, so every way that file can be wrong ends in one usage line.
extension RunReport {
    /// The schema file that describes this version of the report, relative to the project root.
    public static var schemaPath: String { "harness/schema/report-\(currentSchemaVersion).schema.json" }

    /// Decodes the report at `url`, refusing a missing file, non-JSON, another major schema version,
    /// or a shape that is not a report (console spans included), each with one line that names the file.
    public static func load(from url: URL) throws -> RunReport {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HarnessError.usage("cannot read report \(url.path): no such file or not readable")
        }
        // Checked before decoding so that a report of another major version says so, rather than
        // failing on whichever field happened to change.
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError.usage("\(url.path) is not a JSON object: give a report.json written by harness run")
        }
        guard let version = object["schemaVersion"] as? String else {
            throw HarnessError.usage("\(url.path) has no schemaVersion: give a report.json written by harness run")
        }
        let major = currentSchemaVersion.split(separator: ".").first.map(String.init) ?? currentSchemaVersion
        guard version.split(separator: ".").first.map(String.init) == major else {
            throw HarnessError.usage("\(url.path) has schema version \(version); this harness reads \(major).x")
        }
        let report: RunReport
        do {
            report = try reportDecoder.decode(RunReport.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw HarnessError.usage("\(url.path) is not a valid report: missing '\(key.stringValue)' at \(path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw HarnessError.usage("\(url.path) is not a valid report: wrong type at \(path(context.codingPath))")
        } catch let DecodingError.dataCorrupted(context) {
            throw HarnessError.usage("\(url.path) is not a valid report: \(context.debugDescription) at \(path(context.codingPath))")
        } catch {
            throw HarnessError.usage("\(url.path) is not a valid report: \(error)")
        }
        try checkConsoleSpans(report, file: url)
        return report
    }

    /// What the schema says of a console span and Codable cannot check: two line numbers from 1,
    /// the first no later than the last. The renderers and the judge index and range over them.
    private static func checkConsoleSpans(_ report: RunReport, file url: URL) throws {
        for (targetIndex, target) in report.targets.enumerated() {
            for (suiteIndex, suite) in target.suites.enumerated() {
                for (testIndex, test) in suite.tests.enumerated() {
                    guard let span = test.consoleLines, !(span.count == 2 && 1 <= span[0] && span[0] <= span[1]) else { continue }
                    throw HarnessError.usage("\(url.path) is not a valid report: consoleLines \(span) at "
                        + ".targets[\(targetIndex)].suites[\(suiteIndex)].tests[\(testIndex)] is not [first, last] with 1 <= first <= last")
                }
            }
        }
    }

    /// The report as `harness run` writes it: pretty, sorted keys, ISO 8601 dates.
    public func encodedJSON() throws -> Data {
        try Self.reportEncoder.encode(self)
    }

    /// Writes the report atomically, as a usage error when the folder cannot take it.
    public func write(to url: URL) throws {
        do {
            try encodedJSON().write(to: url, options: .atomic)
        } catch {
            throw HarnessError.usage("cannot write \(url.path): choose a writable path")
        }
    }

    static var reportDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static var reportEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static func path(_ codingPath: [CodingKey]) -> String {
        codingPath.isEmpty ? "the top level"
            : codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

extension TargetReport {
    /// Every test of the target, suite by suite.
    public var allTests: [TestResult] { suites.flatMap(\.tests) }

    /// Tests whose check failed.
    public var failingTests: [TestResult] { allTests.filter { $0.status == .fail } }

    /// Whether the target booted and reported: the states a comparison or a waiver can speak about.
    public var ran: Bool { ![.unsupported, .error, .interrupted].contains(status) }
}

extension TestResult {
    /// The observations that explain a failure, in a line: the guest's `reason`, then every check
    /// that came out `0`, then the addresses. Timings are left out; they are not evidence of a broken promise.
    public var evidenceSummary: String {
        var parts: [String] = []
        if let reason = observed["reason"] { parts.append("reason=\(reason)") }
        let checks = observed.keys.sorted().filter { key in
            key != "reason" && !key.hasSuffix("_ns") && observed[key] == "0"
                && (key.hasSuffix("_ok") || ["zeroed", "in_mask", "roundtrip", "views_agree", "realloc_zeroed"].contains(key))
        }
        parts += checks.map { "\($0)=0" }
        for key in ["errno", "leaked", "mismatch_offset", "dma", "phys", "mapping"] {
            if let value = observed[key] { parts.append("\(key)=\(value)") }
        }
        return parts.joined(separator: " ")
    }

    /// What was asked, in a line (`attrs=none size=4096 gfp=GFP_KERNEL`).
    public var parameterSummary: String {
        let order = ["attrs", "size", "gfp", "mask_bits", "offset", "direction", "loops", "threads"]
        return order.compactMap { key in parameters[key].map { "\(key)=\($0)" } }.joined(separator: " ")
    }
}
