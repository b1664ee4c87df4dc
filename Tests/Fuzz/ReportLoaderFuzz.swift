import Foundation
@testable import HarnessCore

/// `RunReport.load(from:)` on any file, and what `harness report`, `compare` and `merge` do with a
/// report it accepts. A file that is not a report must end in a usage error (one line, exit 2),
/// never a crash or another error; a report it accepts must render in every format, compare,
/// merge, take waivers, and come back unchanged through `--format json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func reportLoaderFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let file = Scratch.write(FuzzInput.bytes(data, size), to: "report/report.json")
    let report: RunReport
    do {
        report = try RunReport.load(from: file)
    } catch is HarnessError {
        return 0
    } catch {
        fatalError("RunReport.load threw \(error), not a usage error")
    }

    // harness report --format markdown|html|junit|kcidb|json, with console logs beside the report.
    _ = MarkdownReport.render(report)
    _ = HTMLReport.render(report, reportFolder: ReportFolder.withConsoles)
    _ = JUnitReport.render(report)
    do {
        _ = try KCIDBReport.render(report, logURLBase: "https://ci.example.org/run/")
    } catch {
        fatalError("harness report --format kcidb failed on a report it loaded: \(error)")
    }
    let again = Scratch.write(try! report.encodedJSON(), to: "report/again.json")
    do {
        let reloaded = try RunReport.load(from: again)
        require(try! reloaded.encodedJSON() == report.encodedJSON(), "report.json changed through --format json")
    } catch {
        fatalError("harness report cannot read its own --format json: \(error)")
    }

    // harness report --waivers, compare (with itself and with a real run), merge.
    let waived = Waivers.apply(ReportFolder.waivers, file: "waivers.json", to: report, today: ReportFolder.today)
    _ = MarkdownReport.render(waived)
    for (base, new) in [(waived, waived), (FuzzFixture.comparedRun, waived), (waived, FuzzFixture.comparedRun)] {
        let comparison = ReportComparison.compare(base: base, new: new, baseName: "base", newName: "new")
        _ = ComparisonMarkdown.render(comparison)
        _ = try! JSONEncoder().encode(comparison)
    }
    if let merged = try? ReportMerge.merge([("shard1", report)]) {
        _ = try! merged.encodedJSON()
    }
    _ = ReportMerge.rebaseLogs(report, from: file.deletingLastPathComponent(), to: Scratch.folder)
    return 0
}

/// What a loaded report is rendered and compared with.
enum ReportFolder {
    /// A report folder holding short consoles at the paths recorded reports name, so that
    /// renderers reach their console excerpts.
    static let withConsoles: URL = {
        let console = FuzzFixture.data("console-arm64-direct.log").split(separator: 0x0A, omittingEmptySubsequences: false)
            .prefix(120).joined(separator: [0x0A])
        for path in ["console.log", "arm64-direct/console.log", "x86_64-iommu/console.log"] {
            Scratch.write(Array(console), to: "consoles/\(path)")
        }
        return Scratch.folder.appendingPathComponent("consoles")
    }()

    /// Waivers that match every failure, one that has expired, and one that matches nothing.
    static let waivers = [
        Waiver(target: "*", test: "*", reason: "fuzz"),
        Waiver(target: "*-direct", attribute: "DMA_ATTR_WRITE_COMBINE", reason: "fuzz"),
        Waiver(target: "*", attribute: "none", reason: "fuzz", expires: "2020-01-01"),
        Waiver(target: "riscv64-*", test: "dma_alloc.*", reason: "fuzz"),
    ]
    static let today = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
}
