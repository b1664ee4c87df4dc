import Foundation
import Testing
@testable import HarnessCore
import TestSupport

extension Integration {
/// Every rendering of real reports, checked by its own independent validator: check-jsonschema
/// for report.json, junitparser for JUnit, kcidb-io for KCIDB, headless Chromium for HTML,
/// actionlint for the nightly workflow. The reports are the recorded fixtures plus one fresh run.
@Suite("Report validators", .enabled(if: PythonTools.hasPython, "python3 is not installed"), RemovesFreshRun())
struct ReportValidatorTests {
    static let fixtures = HarnessProcess.packageRoot.appendingPathComponent("Tests/HarnessCoreTests/Fixtures/reports")

    static var fixtureReports: [URL] {
        ["run1-all", "run2-arm64-cma0", "run3-arm64-init-on-alloc"].map { run in
            let file = fixtures.appendingPathComponent("\(run)/report.json")
            return (try? CompressedFixture.materialize(file)) ?? file
        }
    }

    /// Where the fresh run goes: one fixed folder, replaced when the suite starts and removed when
    /// it ends (RemovesFreshRun), so a killed test run leaves at most this one behind.
    static let freshRunFolder = FileManager.default.temporaryDirectory.appendingPathComponent("harness-it-validators")

    /// One real run with the nightly's options (--target, --shard, --waivers), made once.
    static let freshRun: Result<URL, Error> = Result {
        let out = freshRunFolder
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let waivers = out.appendingPathComponent("waivers.json")
        try Data(#"{"waivers":[{"target":"arm64-*","attribute":"WRITE_COMBINE","reason":"CMA alignment (test)","expires":"2099-01-01"}]}"#.utf8).write(to: waivers)
        let result = try HarnessProcess.run(["run", "--target", "arm64-d*", "--shard", "1/1", "--waivers", waivers.path,
                                             "--out", out.path, "--timeout", "600", "--jobs", "1"])
        guard [0, 1].contains(result.exitCode) else { throw PythonTools.ToolError("harness run exited \(result.exitCode): \(result.standardError)") }
        return out.appendingPathComponent("report.json")
    }

    func allReports() throws -> [URL] { Self.fixtureReports + [try Self.freshRun.get()] }

    @Test("every report validates against the published schema (check-jsonschema)")
    func schema() throws {
        try PythonTools.ensure()
        var reports = try allReports()
        // parse and merge write reports too.
        let scratch = HarnessProcess.scratchFolder("schema")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let parsed = try HarnessProcess.run(["parse", Self.fixtures.appendingPathComponent("run2-arm64-cma0/arm64-direct/console.log").path,
                                             "--arch", "arm64", "--json"])
        #expect(parsed.exitCode == 0, "\(parsed.standardError)")
        try Data(parsed.standardOutput.utf8).write(to: scratch.appendingPathComponent("parsed.json"))
        reports.append(scratch.appendingPathComponent("parsed.json"))
        let merged = try HarnessProcess.run(["merge", scratch.appendingPathComponent("merged.json").path,
                                             Self.fixtureReports[1].path, try Self.freshRun.get().path])
        // The fixture and the fresh run both hold arm64-direct: merge must refuse.
        #expect(merged.exitCode == 2 && merged.standardError.hasPrefix("harness: target arm64-direct is in both"))
        let split = try HarnessProcess.run(["merge", scratch.appendingPathComponent("merged.json").path,
                                            Self.fixtureReports[0].path])
        #expect(split.exitCode == 0)
        reports.append(scratch.appendingPathComponent("merged.json"))

        for report in reports {
            // Each report against the schema of its own major version (1.x fixtures are still read).
            let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
            let version = try #require(raw?["schemaVersion"] as? String, "\(report.path) names its schema version")
            let major = version.split(separator: ".").first.map(String.init) ?? version
            let schema = HarnessProcess.packageRoot.appendingPathComponent("harness/schema/report-\(major).0.schema.json")
            let check = try PythonTools.run(PythonTools.tool("check-jsonschema").path,
                                            ["--schemafile", schema.path, report.path])
            #expect(check.status == 0, "\(report.path): \(check.output)")
            #expect(check.output.contains("ok -- validation done"))
        }
        let fresh = try RunReport.load(from: try Self.freshRun.get())
        #expect(fresh.targets.map(\.id) == ["arm64-direct"])
        #expect(fresh.waivers?.file.hasSuffix("waivers.json") == true)
    }

    @Test("JUnit XML reads back in junitparser with the report's counts")
    func junit() throws {
        try PythonTools.ensure()
        for report in try allReports() {
            let rendered = try HarnessProcess.run(["report", report.path, "--format", "junit"])
            #expect(rendered.exitCode == 0, "\(rendered.standardError)")
            // Counted case by case from the parsed tree, not from the totals the XML claims.
            let script = """
            import sys
            from junitparser import JUnitXml, Failure, Error, Skipped
            xml = JUnitXml.fromstring(sys.stdin.read())
            t = f = e = s = 0
            for suite in xml:
                for case in suite:
                    t += 1
                    for r in case.result:
                        if isinstance(r, Failure): f += 1
                        elif isinstance(r, Error): e += 1
                        elif isinstance(r, Skipped): s += 1
            print(t, f, e, s)
            """
            let parsed = try PythonTools.run(PythonTools.tool("python").path, ["-c", script], input: Data(rendered.standardOutput.utf8))
            #expect(parsed.status == 0, "\(parsed.output)")
            let loaded = try RunReport.load(from: report)
            let counts = JUnitReport.counts(loaded.waivers == nil ? loaded : loaded)
            #expect(parsed.output.trimmingCharacters(in: .whitespacesAndNewlines)
                == "\(counts.tests) \(counts.failures) \(counts.errors) \(counts.skipped)", "\(report.path)")
        }
    }

    @Test("KCIDB output passes kcidb-io's own validator for the latest schema")
    func kcidb() throws {
        try PythonTools.ensure()
        for report in try allReports() {
            let rendered = try HarnessProcess.run(["report", report.path, "--format", "kcidb", "--log-url-base", "https://ci.example.org/nightly/1"])
            #expect(rendered.exitCode == 0, "\(rendered.standardError)")
            let script = """
            import sys, json, kcidb_io
            data = json.load(sys.stdin)
            kcidb_io.schema.LATEST.validate_exactly(data)
            print("kcidb-io", kcidb_io.schema.LATEST.major, kcidb_io.schema.LATEST.minor, "valid:",
                  len(data["checkouts"]), "checkouts", len(data["builds"]), "builds", len(data["tests"]), "tests")
            """
            let validated = try PythonTools.run(PythonTools.tool("python").path, ["-c", script], input: Data(rendered.standardOutput.utf8))
            #expect(validated.status == 0, "\(report.path): \(validated.output.suffix(2000))")
            #expect(validated.output.contains("valid:"))
        }
    }

    @Test("the nightly workflow passes actionlint")
    func workflow() throws {
        try PythonTools.ensure()
        let lint = try PythonTools.run(PythonTools.tool("actionlint").path,
                                       [HarnessProcess.packageRoot.appendingPathComponent(".github/workflows/nightly.yml").path])
        #expect(lint.status == 0, "\(lint.output)")
        let matrix = try HarnessProcess.run(["matrix", "--format", "github", "--shards", "3"])
        #expect(matrix.exitCode == 0 && matrix.standardOutput.hasPrefix("{\"include\":[{"))
    }

    @Test("compare of two real runs: cma=0 vs init_on_alloc=1 regresses (exit 1), the reverse direction fixes")
    func compare() throws {
        let (cma0, slow) = (Self.fixtureReports[1].path, Self.fixtureReports[2].path)
        let worse = try HarnessProcess.run(["compare", cma0, slow])
        #expect(worse.exitCode == 1)
        #expect(worse.standardOutput.contains("**Verdict: regressed**") && worse.standardOutput.contains("dma_alloc.none_2097152"))
        let better = try HarnessProcess.run(["compare", slow, cma0, "--format", "json"])
        #expect(better.exitCode == 0)
        #expect(better.standardOutput.contains("\"regressed\" : false"))
        let bad = try HarnessProcess.run(["compare", cma0, "/nonexistent/report.json"])
        #expect(bad.exitCode == 2 && bad.standardError == "harness: cannot read report /nonexistent/report.json: no such file or not readable\n")
    }
}
}

/// Removes the validators' fresh run once every test of the suite has read it: the suite shares
/// one run, and nothing of a test run may stay in /tmp.
struct RemovesFreshRun: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(at: Integration.ReportValidatorTests.freshRunFolder) }
        try await function()
    }
}
