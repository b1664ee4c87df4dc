import Foundation
@testable import HarnessCore
import TestSupport

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
    /// Run 4: every arch, direct, on every Debian kernel line (bookworm, trixie, sid).
    static let lines = "run4-lines"
    /// Run 5: two identical runs of arm64-direct and x86_64-direct on their profiles' icount clocks.
    static let icountA = "run5-icount-a", icountB = "run5-icount-b"
}
