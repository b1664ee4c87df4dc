import Foundation

/// Reading and writing `report.json` outside a run: the renderers, `compare`, `merge` and `parse`
/// all start from a file a user names, so every way that file can be wrong ends in one usage line.
extension RunReport {
    /// The published schema, relative to the project root: one file per major version, named for
    /// the version that opened it, describing every minor of it (its `schemaVersion` pattern says which).
    public static var schemaPath: String { "harness/schema/report-\(currentSchemaMajor).0.schema.json" }

    /// The older major versions this harness still reads.
    static let readableOlderMajors: Set<Int> = [1]

    /// The major number of `currentSchemaVersion`.
    public static var currentSchemaMajor: Int { SchemaVersion(currentSchemaVersion)!.major }

    /// Decodes the report at `url`, refusing a missing file, non-JSON, another major schema version,
    /// or a shape that is not a report, each with one line that names the file. A report of a newer
    /// minor version is read: the fields this harness does not know are ignored, and what it writes
    /// from the report (render, merge) is in its own version.
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
        guard let versionText = object["schemaVersion"] as? String else {
            throw HarnessError.usage("\(url.path) has no schemaVersion: give a report.json written by harness run")
        }
        if let problem = readability(ofSchemaVersion: versionText) {
            let shown = SchemaVersion(versionText) == nil ? versionText.debugDescription : versionText
            throw HarnessError.usage("\(url.path) has schema version \(shown); \(problem)")
        }
        do {
            var report = try decode(data, from: url)
            try checkConsoleSpans(report, file: url)
            report.schemaVersion = currentSchemaVersion
            return report
        } catch let error as HarnessError where isNewerMinor(versionText) {
            // A newer minor only adds optional fields; if it still fails, say which side is behind.
            throw HarnessError.usage(error.message + " (schema \(versionText) is newer than this harness's \(currentSchemaVersion): upgrade dma-harness)")
        }
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

    static func isNewerMinor(_ text: String) -> Bool {
        guard let version = SchemaVersion(text), let own = SchemaVersion(currentSchemaVersion) else { return false }
        return version.major == own.major && version.minor > own.minor
    }

    /// Why a report of schema version `text` cannot be read by this harness, or nil when it can.
    static func readability(ofSchemaVersion text: String) -> String? {
        let own = "this harness (dma-harness \(HarnessVersion.string)) reads schema 1.x and \(currentSchemaMajor).x, up to \(currentSchemaVersion)"
        guard let version = SchemaVersion(text) else {
            return "\(own), and that is no MAJOR.MINOR version: give a report.json written by harness run"
        }
        if version.major > currentSchemaMajor {
            return "\(own): upgrade dma-harness to one that reads schema \(version.major).x"
        }
        // 1.x is still read, so that waivers, compare and the renderers work on older reports: its
        // attributes carry one class each, read as a verdict without measurements (AttributeVerdict).
        if version.major < currentSchemaMajor, !readableOlderMajors.contains(version.major) {
            return "\(own): render it with the dma-harness that wrote it, or run harness run again"
        }
        return nil
    }

    private static func decode(_ data: Data, from url: URL) throws -> RunReport {
        do {
            return try reportDecoder.decode(RunReport.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw HarnessError.usage("\(url.path) is not a valid report: missing '\(key.stringValue)' at \(path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw HarnessError.usage("\(url.path) is not a valid report: wrong type at \(path(context.codingPath))")
        } catch let DecodingError.dataCorrupted(context) {
            throw HarnessError.usage("\(url.path) is not a valid report: \(context.debugDescription) at \(path(context.codingPath))")
        } catch {
            throw HarnessError.usage("\(url.path) is not a valid report: \(error)")
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

/// A `schemaVersion`: `MAJOR.MINOR`, both decimal.
struct SchemaVersion: Equatable {
    var major: Int
    var minor: Int

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.major = major
        self.minor = minor
    }
}
