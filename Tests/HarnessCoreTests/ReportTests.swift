import Foundation
import Testing
@testable import HarnessCore

@Suite("report.json")
struct ReportTests {
    @Test("a report built from a recorded console encodes, decodes and carries its schema version")
    func roundTrip() throws {
        let console = try Fixture.console("arm64-direct")
        let collected = ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
        let tests = collected.document.allTests
        let target = TargetReport(
            id: "arm64-direct", arch: "arm64", variant: "direct", machine: "virt", cpu: "cortex-a57",
            kernel: KernelFacts(release: "6.1.0-56-arm64", image: "/cache/vmlinuz",
                                provenance: .debian(packages: [DebianPackage(
                                    name: "linux-image-6.1.0-56-arm64", version: "6.1.192-2", architecture: "arm64",
                                    fileName: "x.deb", size: 1, sha256: String(repeating: "a", count: 64))]),
                                moduleVermagic: "6.1.0-56-arm64 SMP mod_unload aarch64", kernelArguments: ["panic=-1"]),
            status: collected.status, failedStage: nil, errorKind: nil, reason: collected.reason,
            stages: [StageRecord(stage: .boot, status: .ok, seconds: 2.5, detail: nil)],
            boot: BootFacts(ending: .poweredOff, detail: "ok", guestSeconds: 2.5, domainName: "dmah-1-arm64-direct"),
            ktapComplete: collected.document.isComplete, suites: collected.document.suites,
            attributes: collected.verdicts.attributes, findings: collected.findings,
            summary: TestCounts(tests: tests), logs: LogPaths(console: "arm64-direct/console.log"))
        let report = RunReport(
            run: RunMetadata(harnessVersion: HarnessVersion.string, commandLine: ["harness", "run"], host: .measure(),
                             libvirtURI: "qemu:///embed?root=/x", startedAt: Date(timeIntervalSince1970: 0)),
            targets: [target])

        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["schemaVersion"] as? String == RunReport.currentSchemaVersion)

        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(RunReport.self, from: data)
        #expect(decoded.targets.first?.suites == target.suites)
        #expect(decoded.targets.first?.summary == TestCounts(tests: tests))
        #expect(decoded.targets.first?.attributes == target.attributes)
    }

    @Test("the exit status ranks interruption, bad input, host trouble, then failures")
    func exitStatus() {
        func report(_ statuses: [(TargetStatus, TargetReport.ErrorKind?)]) -> RunReport {
            RunReport(run: RunMetadata(harnessVersion: "t", commandLine: [], host: .measure(), libvirtURI: "",
                                       startedAt: Date()),
                      targets: statuses.map { status, kind in
                          TargetReport(id: "t", arch: "a", variant: "v", machine: "m", cpu: "c", kernel: nil, status: status,
                                       failedStage: nil, errorKind: kind, reason: nil, stages: [], boot: nil,
                                       ktapComplete: false, suites: [], attributes: [], findings: [],
                                       summary: TestCounts(tests: []), logs: LogPaths())
                      })
        }
        #expect(HarnessRun.exitStatus(for: report([(.passed, nil)]), cancelled: false) == .passed)
        #expect(HarnessRun.exitStatus(for: report([(.passed, nil), (.crashed, nil)]), cancelled: false) == .failures)
        #expect(HarnessRun.exitStatus(for: report([(.error, .infrastructure), (.failed, nil)]), cancelled: false) == .infrastructure)
        #expect(HarnessRun.exitStatus(for: report([(.error, .usage), (.error, .infrastructure)]), cancelled: false) == .usage)
        #expect(HarnessRun.exitStatus(for: report([(.passed, nil)]), cancelled: true) == .interrupted)
    }
}
