import Foundation
@testable import HarnessCore

/// The recorded report.json files (Fixtures/reports/README.md says how each was made).
enum ReportFixture {
    static let folder = Fixture.folder.appendingPathComponent("reports")

    static func url(_ run: String) -> URL {
        let file = folder.appendingPathComponent(run).appendingPathComponent("report.json")
        return (try? CompressedFixture.materialize(file)) ?? file
    }

    static func load(_ run: String) throws -> RunReport { try RunReport.load(from: url(run)) }

    /// Run 1: every arch x variant. Run 2: arm64-direct with cma=0 (passes). Run 3: arm64-direct
    /// with init_on_alloc=1 (fails like run 1, slower).
    static let all = "run1-all", cma0 = "run2-arm64-cma0", initOnAlloc = "run3-arm64-init-on-alloc"
}

/// A recorded report kept xz-compressed in git (the full 9-target run is 2.6 MB of JSON), unpacked
/// beside itself on first use so that its relative log paths still resolve.
enum CompressedFixture {
    static func materialize(_ file: URL) throws -> URL {
        let packed = file.appendingPathExtension("xz")
        guard !FileManager.default.fileExists(atPath: file.path), FileManager.default.fileExists(atPath: packed.path) else {
            return file
        }
        let scratch = file.appendingPathExtension("\(getpid())-\(UUID().uuidString)")
        try Subprocess.checked("sh", ["-c", "xz -dc \"$0\" > \"$1\"", packed.path, scratch.path])
        // Tests run in parallel: the first rename wins, the others just drop their copy.
        if rename(scratch.path, file.path) != 0 { try? FileManager.default.removeItem(at: scratch) }
        return file
    }
}
