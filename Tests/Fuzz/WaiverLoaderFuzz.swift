import Foundation
@testable import HarnessCore

/// `Waivers.load(from:)` on any file, and `Waivers.apply` of what it accepts to a real failed run,
/// as `harness report --waivers`, `compare --waivers` and `run --waivers` do. A file that is not a
/// waiver file must end in a usage error; an accepted one must apply, and what it reports must
/// point at its own entries.
@_cdecl("LLVMFuzzerTestOneInput")
public func waiverLoaderFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let file = Scratch.write(FuzzInput.bytes(data, size), to: "waivers.json")
    let waivers: [Waiver]
    do {
        waivers = try Waivers.load(from: file)
    } catch is HarnessError {
        return 0
    } catch {
        fatalError("Waivers.load threw \(error), not a usage error")
    }
    for report in WaiverFixture.reports {
        let waived = Waivers.apply(waivers, file: file.path, to: report, today: WaiverFixture.today)
        let outcome = waived.waivers!
        for finding in outcome.applied {
            require(waivers.indices.contains(finding.waiver), "applied waiver \(finding.waiver) of \(waivers.count)")
        }
        for waiver in outcome.stale + outcome.expired {
            require(waivers.contains(waiver), "stale or expired waiver not in the file")
        }
        for target in waived.targets {
            let status = waived.effectiveStatus(of: target)
            require(status == target.status || (target.status == .failed && status == .passed),
                    "waivers turned \(target.status) into \(status)")
        }
        _ = MarkdownReport.waiverSection(outcome)
        _ = HTMLReport.waiverSection(outcome)
    }
    return 0
}

/// Real runs to apply waivers to: a failed arm64-direct, and every arch x variant (six failed, one
/// unsupported), which is kept xz-compressed: fuzz.sh unpacks it and names it in
/// `DMA_HARNESS_FUZZ_RUN1_REPORT`.
enum WaiverFixture {
    static let reports: [RunReport] = {
        guard let all = ProcessInfo.processInfo.environment["DMA_HARNESS_FUZZ_RUN1_REPORT"] else {
            fatalError("set DMA_HARNESS_FUZZ_RUN1_REPORT to an unpacked Fixtures/reports/run1-all/report.json (fuzz.sh does)")
        }
        return [FuzzFixture.failedRun, URL(fileURLWithPath: all)]
            .map { try! RunReport.load(from: $0) }
    }()
    static let today = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
}
