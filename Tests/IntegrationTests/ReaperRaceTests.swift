import Foundation
import Testing
@testable import HarnessCore

extension Integration {
/// The QEMU reaper must never take a child libvirt waits for. The race it once lost: a root with no
/// QEMU capabilities cache makes libvirt probe each emulator (`qemu-system-* -machine none ...
/// -daemonize`) and `waitpid` for the probe's parent, while guests of other arches exit and are
/// reaped. A reaper that took any exited QEMU made the start fail with "unable to wait for process
/// N: No child processes" and orphaned the probe's QEMU.
@Suite("QEMU reaper race")
struct ReaperRaceTests {
    static let rounds = 3

    @Test("fresh libvirt roots probe every emulator while guests exit: every start succeeds, nothing is orphaned")
    func freshRootsProbeWhileGuestsExit() throws {
        for round in 1...Self.rounds {
            // Images, builds and package lists shared with the default cache; the libvirt root is new.
            let cache = try Integration.FaultMatrixTests.cacheSharingImages(shareBuilds: true)
            let out = HarnessProcess.scratchFolder("reaper-race-\(round)")
            defer {
                try? FileManager.default.removeItem(at: cache)
                try? FileManager.default.removeItem(at: out)
            }
            #expect(!FileManager.default.fileExists(atPath: cache.appendingPathComponent("libvirt/cache/qemu/capabilities").path))
            // Two at a time: one guest's exit overlaps the next emulator's probe.
            let result = try HarnessProcess.run(["run", "--arch", "all", "--out", out.path, "--cache-dir", cache.path,
                                                 "--jobs", "2"])
            #expect([0, 1].contains(result.exitCode), "round \(round): \(result.standardError.suffix(500))")
            let report = try HarnessProcess.report(in: out)
            for target in report.targets {
                #expect(target.status != .error, "round \(round) \(target.id): \(target.reason ?? "")")
                #expect(target.reason?.contains("No child processes") != true)
            }
            // A probe QEMU names the root in its -qmp socket path: none may outlive the run.
            let leftovers = Leftovers(of: result, out: out, cacheRoot: cache).found()
            #expect(leftovers.isEmpty, "round \(round): \(leftovers)")
        }
    }
}
}
