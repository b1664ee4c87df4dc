import Foundation
import Testing
@testable import HarnessCore

/// The reaper waits only for pids libvirt and QEMU name in their pid files; these tests pin down
/// which files those are (the race itself is an integration test, ReaperRaceTests).
@Suite("QEMU reaper")
struct QEMUReaperTests {
    @Test("domain and probe pid files are read; libvirt's own driver.pid and other files are not")
    func pidFilesOfARoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dh-reaper-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run/qemu")
        let probe = root.appendingPathComponent("lib/qemu/qmp-AB12CD")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        try "4242\n".write(to: run.appendingPathComponent("dmah-1-arm64-direct.pid"), atomically: true, encoding: .utf8)
        try "\(getpid())\n".write(to: run.appendingPathComponent("driver.pid"), atomically: true, encoding: .utf8)
        try "<domstatus/>".write(to: run.appendingPathComponent("dmah-1-arm64-direct.xml"), atomically: true, encoding: .utf8)
        try "4343".write(to: probe.appendingPathComponent("qmp.pid"), atomically: true, encoding: .utf8)
        try "garbage".write(to: run.appendingPathComponent("dmah-2-x86_64-direct.pid"), atomically: true, encoding: .utf8)

        let pids = QEMUReaper.pidFiles(in: root)
        #expect(Set(pids.values) == [4242, 4343])
        #expect(pids[run.appendingPathComponent("dmah-1-arm64-direct.pid").path] == 4242)
        #expect(pids[probe.appendingPathComponent("qmp.pid").path] == 4343)
    }

    @Test("/proc/PID/stat: the command ends at the last parenthesis, state and parent follow")
    func statLine() throws {
        let stat = try #require(ProcessStat(statLine: "812 (qemu-system-aar) Z 77 812 812 0 -1 4228172 0"))
        #expect(stat.command == "qemu-system-aar" && stat.state == "Z" && stat.parent == 77)
        let odd = try #require(ProcessStat(statLine: "9 (a (b) c) S 1 9 9 0"))
        #expect(odd.command == "a (b) c" && odd.state == "S" && odd.parent == 1)
        #expect(ProcessStat(statLine: "garbage") == nil)
    }
}
