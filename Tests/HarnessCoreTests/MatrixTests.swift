import Foundation
import Testing
@testable import HarnessCore

@Suite("matrix, selection and merge")
struct MatrixTests {
    let ids = ["x86_64-direct", "arm-direct", "arm-iommu", "arm64-direct", "arm64-iommu", "x86_64-iommu", "arm64-noncoherent"]

    @Test("shards partition the targets: each in exactly one, sizes within one", arguments: [1, 2, 3, 4, 7, 9])
    func shardsPartition(count: Int) throws {
        let shards = try (1...count).map { try TargetSelection(shard: ($0, count)).select(from: ids) }
        #expect(shards.flatMap { $0 }.sorted() == ids.sorted())
        let sizes = shards.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
    }

    @Test("globs select by id; a pattern matching nothing is a usage error listing the ids")
    func globs() throws {
        #expect(try TargetSelection(patterns: ["arm*-direct"]).select(from: ids) == ["arm-direct", "arm64-direct"])
        #expect(try TargetSelection(patterns: ["arm64-iommu", "x86_64-*"]).select(from: ids)
            == ["arm64-iommu", "x86_64-direct", "x86_64-iommu"])
        do {
            _ = try TargetSelection(patterns: ["riscv64-*"]).select(from: ids)
            Issue.record("no error")
        } catch let error as HarnessError {
            #expect(error.status == .usage && error.message.contains("arm64-iommu"))
        }
        for bad in ["0/3", "4/3", "1/0", "x", "1/2/3"] {
            #expect(throws: HarnessError.self) { try TargetSelection.parseShard(bad) }
        }
        #expect(try TargetSelection.parseShard("2/3") == (2, 3))
    }

    @Test("the CI matrix lists every planned target from the profiles, as GitHub JSON")
    func ciMatrix() throws {
        let root = Fixture.folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalog = try ArchCatalog(layout: ProjectLayout(root: root))
        let entries = try CIMatrix.entries(catalog: catalog)
        #expect(entries.count == catalog.names.count * TargetPlanner.knownVariants.count)
        let json = try CIMatrix.github(entries)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [[String: String]]])
        #expect(object["include"]?.map { $0["target"] } == entries.map(\.target))
        #expect(!json.contains("\n"))
        let shards = try CIMatrix.shards(entries, count: 3)
        #expect(shards.flatMap { $0.targets!.split(separator: " ").map(String.init) }.sorted() == entries.map(\.target).sorted())
    }

    @Test("merging shards of a real run gives back its targets; overlapping shards are refused")
    func merge() throws {
        let report = try ReportFixture.load(ReportFixture.all)
        var first = report, second = report
        first.targets = report.targets.filter { $0.arch == "arm64" }
        second.targets = report.targets.filter { $0.arch != "arm64" }
        second.run.startedAt = report.run.startedAt.addingTimeInterval(-60)
        let merged = try ReportMerge.merge([("a", first), ("b", second)])
        #expect(merged.targets.map(\.id) == report.targets.map(\.id).sorted())
        #expect(merged.run.startedAt == second.run.startedAt)
        #expect(merged.mergedFrom?.count == 2)
        do {
            _ = try ReportMerge.merge([("a", first), ("c", try ReportFixture.load(ReportFixture.cma0))])
            Issue.record("no error")
        } catch let error as HarnessError {
            #expect(error.status == .usage && error.message.contains("arm64-direct"))
        }
        let rebased = ReportMerge.rebaseLogs(first, from: URL(fileURLWithPath: "/tmp/x/shard-1"), to: URL(fileURLWithPath: "/tmp/x/merged"))
        #expect(rebased.targets.first?.logs.console == "../shard-1/arm64-direct/console.log")
    }
}
