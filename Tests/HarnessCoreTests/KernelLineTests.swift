import Foundation
import Testing
@testable import HarnessCore

/// One arch across kernel lines, on a report recorded with `--arch all --debian all`.
@Suite("kernel lines in reports")
struct KernelLineTests {
    let report: RunReport

    init() throws { report = try ReportFixture.load(ReportFixture.lines) }

    @Test("each arch and variant on several lines is one group, oldest kernel first, unsupported targets left out")
    func groups() throws {
        let changes = KernelLineChanges(report: report)
        let booted = report.targets.filter { $0.status != .unsupported }
        let pairs = Set(booted.map { "\($0.arch)-\($0.variant)" })
        #expect(changes.groups.count == pairs.count)
        for group in changes.groups {
            let members = booted.filter { $0.arch == group.arch && $0.variant == group.variant }
            #expect(group.lines.map(\.targetID).sorted() == members.map(\.id).sorted())
            let versions = group.lines.map { $0.version.split(separator: ".").compactMap { Int($0) } }
            #expect(zip(versions, versions.dropFirst()).allSatisfy { !$1.lexicographicallyPrecedes($0) }, "\(group.arch): \(versions)")
            for row in group.attributes {
                for (line, value) in zip(group.lines, row.values) {
                    let target = try #require(report.targets.first { $0.id == line.targetID })
                    #expect(value == target.attributes.first { $0.attribute == row.subject }?.cell)
                }
            }
            for row in group.findings {
                #expect(row.values.contains { $0 != nil }, "a finding row names a finding some line has")
            }
        }
        // An arch that has no kernel on one line is compared on the lines it has.
        let lineCounts = Dictionary(changes.groups.map { ($0.arch, $0.lines.count) }, uniquingKeysWith: { a, _ in a })
        for target in report.targets where target.status == .unsupported {
            #expect(lineCounts[target.arch].map { $0 < Set(report.targets.compactMap(\.suite)).count } ?? true)
        }
    }

    @Test("the Markdown and HTML show what changed, and name each row's line")
    func renderings() throws {
        let markdown = MarkdownReport.render(report)
        #expect(markdown.contains("## What changed between kernel lines"))
        for target in report.targets where target.kernel != nil {
            #expect(markdown.contains(MarkdownText.tableCode(MarkdownReport.rowLabel(report, target))), "\(target.id) row")
        }
        let html = HTMLReport.render(report, reportFolder: FileManager.default.temporaryDirectory)
        #expect(html.contains("What changed between kernel lines"))
        let changed = KernelLineChanges(report: report).groups.flatMap { $0.attributes + $0.findings }.filter(\.changed).count
        #expect(html.components(separatedBy: "<tr class=\"changed\">").count - 1 == changed)
    }

    @Test("compare across lines matches targets by arch and variant; a line the report lacks is named")
    func compareAcrossLines() throws {
        let suites = Set(report.targets.compactMap(\.suite)).sorted()
        let base = try ReportComparison.onKernelLine(report, suite: suites[0], file: "r.json")
        let new = try ReportComparison.onKernelLine(report, suite: suites[1], file: "r.json")
        #expect(base.targets.allSatisfy { $0.id == "\($0.arch)-\($0.variant)" })
        let comparison = ReportComparison.compare(base: base, new: new, baseName: suites[0], newName: suites[1])
        let shared = Set(base.targets.map(\.id)).intersection(new.targets.map(\.id))
        #expect(!shared.isEmpty)
        #expect(comparison.changes.allSatisfy { shared.contains($0.target) || $0.kind == .targetAdded || $0.kind == .targetRemoved })
        do {
            _ = try ReportComparison.onKernelLine(report, suite: "buster", file: "r.json")
            Issue.record("no error")
        } catch let error as HarnessError {
            #expect(error.status == .usage && suites.allSatisfy(error.message.contains))
        }
    }
}
