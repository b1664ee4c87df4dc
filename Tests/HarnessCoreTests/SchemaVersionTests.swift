import Foundation
import Testing
@testable import HarnessCore

/// report.json files of other schema versions (README: MAJOR.MINOR; a minor only adds optional
/// fields, so every minor of this major is read; another major is refused with what to do).
@Suite("report schema versions")
struct SchemaVersionTests {
    /// The recorded run2 report as a JSON object, for editing.
    func recorded() throws -> [String: Any] {
        let data = try Data(contentsOf: ReportFixture.url(ReportFixture.cma0))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func write(_ object: [String: Any]) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        return file
    }

    func loadError(_ object: [String: Any]) throws -> HarnessError {
        let file = try write(object)
        defer { try? FileManager.default.removeItem(at: file) }
        return try #require(throws: HarnessError.self) { try RunReport.load(from: file) }
    }

    @Test("a future major version: one line with its version, the versions read, and to upgrade", arguments: ["3.0", "9.1", "10.0"])
    func futureMajor(version: String) throws {
        var object = try recorded()
        object["schemaVersion"] = version
        let error = try loadError(object)
        #expect(error.status == .usage)
        #expect(error.message.contains("has schema version \(version);"), "\(error.message)")
        #expect(error.message.contains("reads schema 1.x and 2.x, up to \(RunReport.currentSchemaVersion)"))
        #expect(error.message.contains("upgrade dma-harness to one that reads schema \(version.split(separator: ".")[0]).x"))
        #expect(!error.message.contains("\n"))
    }

    @Test("an older major version says where to render it")
    func olderMajor() throws {
        var object = try recorded()
        object["schemaVersion"] = "0.9"
        let error = try loadError(object)
        #expect(error.message.contains("has schema version 0.9;") && error.message.contains("the dma-harness that wrote it"))
    }

    @Test("a version that is no MAJOR.MINOR is refused, shown escaped on one line", arguments: ["1", "1.0.0", "v1.0", "1.x", "", "1.0\nfake", "١.٠"])
    func malformed(version: String) throws {
        var object = try recorded()
        object["schemaVersion"] = version
        let error = try loadError(object)
        #expect(error.message.contains("no MAJOR.MINOR version"), "\(error.message)")
        #expect(!error.message.contains("\n"))
    }

    @Test("a newer minor with fields this harness does not know is read, and what it writes is in its own version")
    func newerMinor() throws {
        var object = try recorded()
        object["schemaVersion"] = "1.9"
        object["futureTopLevel"] = ["anything": [1, 2, 3]]
        var targets = try #require(object["targets"] as? [[String: Any]])
        targets[0]["futureTargetField"] = "x"
        object["targets"] = targets
        let file = try write(object)
        defer { try? FileManager.default.removeItem(at: file) }
        let report = try RunReport.load(from: file)
        let reference = try ReportFixture.load(ReportFixture.cma0)
        #expect(report.targets.map(\.id) == reference.targets.map(\.id))
        #expect(report.targets[0].suites == reference.targets[0].suites)
        #expect(report.schemaVersion == RunReport.currentSchemaVersion, "re-encoded, it says what it holds")
        #expect(!String(decoding: try report.encodedJSON(), as: UTF8.self).contains("futureTargetField"))
    }

    @Test("a newer minor that still fails to decode says it is newer")
    func newerMinorThatFails() throws {
        var object = try recorded()
        object["schemaVersion"] = "2.9"
        var targets = try #require(object["targets"] as? [[String: Any]])
        targets[0]["status"] = "quarantined"
        object["targets"] = targets
        let error = try loadError(object)
        #expect(error.message.contains("is not a valid report") && error.message.contains("newer than this harness's \(RunReport.currentSchemaVersion)"))
    }

    @Test("the older major 1 is still read: the recorded 1.0 reports")
    func olderMinor() throws {
        #expect(try recorded()["schemaVersion"] as? String == "1.0")
        let report = try ReportFixture.load(ReportFixture.cma0)
        #expect(report.schemaVersion == RunReport.currentSchemaVersion)
        #expect(report.targets[0].planMismatch == nil && report.targets[0].consoleCut == nil)
    }

    @Test("the published schema file is the one for this major version, and its pattern admits this version")
    func schemaFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent(RunReport.schemaPath))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pattern = try #require(((schema["properties"] as? [String: Any])?["schemaVersion"] as? [String: Any])?["pattern"] as? String)
        #expect(RunReport.currentSchemaVersion.range(of: pattern, options: .regularExpression) != nil)
        let definitions = try #require(schema["$defs"] as? [String: Any])
        #expect(definitions["planMismatch"] != nil && definitions["consoleCut"] != nil)
    }
}
