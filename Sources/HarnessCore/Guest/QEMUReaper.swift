import CSystemShims
import Foundation

/// Reaps the QEMU processes of the embedded driver as soon as they exit, and no other.
///
/// libvirt starts QEMU through a daemonizing double fork (a domain's QEMU), or has QEMU daemonize
/// itself (the capabilities probe, `qemu-system-* -machine none ... -daemonize`), so that QEMU is
/// nobody's child and libvirt never waits for it: to stop it, `virProcessKillPainfully` polls
/// `kill(pid, 0)` until the process is gone, which for an exited QEMU means until someone reaps it.
/// Left to PID 1 (a slow init here) that took 1.1 to 2.0 s per guest; as a child subreaper this
/// process inherits those QEMUs, and for a probe's QEMU nobody else would reap it at all, so every
/// fresh root would wait 15 s per emulator.
///
/// libvirt does wait for other processes it forks in this process: the probe's foreground QEMU and
/// each daemonizing parent. Reaping one of those first makes libvirt's `waitpid` fail with ECHILD
/// ("No child processes"), fails the start and orphans the probe. So the reaper never scans for
/// zombies: it waits only for the pids named in the pid files libvirt and QEMU write for exactly the
/// processes nobody waits for, `<root>/run/qemu/NAME.pid` (a domain) and
/// `<root>/lib/qemu/qmp-*/qmp.pid` (a probe). A probe's file is gone again within a few hundred
/// milliseconds, long before libvirt kills that QEMU, so a pid seen in a file stays watched until it
/// is reaped or gone.
///
/// What the subreaper inherits besides (the probe's intermediate process, which exits at once) is
/// reaped by `reapOrphansAfterLibvirt()`, once the connection is closed and libvirt can no longer
/// wait for anything.
final class QEMUReaper: @unchecked Sendable {
    static let shared = QEMUReaper()

    private let condition = NSCondition()
    private var started = false
    private var roots: Set<URL> = []
    /// Pids read from pid files, waited for until reaped or gone.
    private var watched: Set<pid_t> = []
    /// Pid files whose pid was reaped already: until libvirt removes the file its pid may belong
    /// to a new child of ours, which must not be waited for.
    private var reapedFromFile: [String: pid_t] = [:]

    /// How often the pid files are read and their pids polled with `waitpid(WNOHANG)`.
    static let pollInterval: useconds_t = 5_000

    /// Becomes a subreaper (once per process) and reaps the QEMUs of the embedded root `root`.
    func watch(root: URL) {
        let first: Bool = condition.withLock {
            roots.insert(root)
            condition.signal()
            defer { started = true }
            return !started
        }
        guard first, harness_set_child_subreaper() == 0 else { return }
        let thread = Thread { [self] in
            while true { reapExitedQEMUs() }
        }
        thread.name = "qemu-reaper"
        thread.start()
    }

    /// Stops reading `root`'s pid files (its connection is closed).
    func unwatch(root: URL) {
        _ = condition.withLock { roots.remove(root) }
    }

    /// One poll: sleeps on the condition while no root is watched.
    private func reapExitedQEMUs() {
        let roots: Set<URL> = condition.withLock {
            while self.roots.isEmpty && watched.isEmpty { condition.wait() }
            return self.roots
        }
        let pidFiles = roots.reduce(into: [String: pid_t]()) { all, root in
            all.merge(Self.pidFiles(in: root)) { first, _ in first }
        }
        let candidates: Set<pid_t> = condition.withLock {
            // Forget reaped pids whose file is gone or names another pid now.
            reapedFromFile = reapedFromFile.filter { file, pid in pidFiles[file] == pid }
            for (file, pid) in pidFiles where reapedFromFile[file] != pid { watched.insert(pid) }
            return watched
        }
        var reaped: Set<pid_t> = [], gone: Set<pid_t> = []
        for pid in candidates {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                reaped.insert(pid)
            } else if result < 0, errno == ECHILD, kill(pid, 0) != 0 {
                // Never ours, or re-parented and reaped elsewhere, and gone: nothing to wait for.
                gone.insert(pid)
            }
            // Otherwise it runs, or is still the child of its daemonizing parent: look again.
        }
        condition.withLock {
            watched.subtract(reaped.union(gone))
            for (file, pid) in pidFiles where reaped.contains(pid) { reapedFromFile[file] = pid }
        }
        usleep(Self.pollInterval)
    }

    /// The pids in a root's domain and probe pid files, keyed by file.
    static func pidFiles(in root: URL) -> [String: pid_t] {
        let manager = FileManager.default
        var files: [String] = []
        let run = root.appendingPathComponent("run/qemu")
        for entry in (try? manager.contentsOfDirectory(atPath: run.path)) ?? [] where entry.hasSuffix(".pid") && entry != "driver.pid" {
            files.append(run.appendingPathComponent(entry).path)
        }
        let lib = root.appendingPathComponent("lib/qemu")
        for entry in (try? manager.contentsOfDirectory(atPath: lib.path)) ?? [] where entry.hasPrefix("qmp-") {
            files.append(lib.appendingPathComponent("\(entry)/qmp.pid").path)
        }
        var pids: [String: pid_t] = [:]
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { continue }
            pids[file] = pid
        }
        return pids
    }

    /// Reaps every exited `qemu-system*` child, after the libvirt connection is closed: what QEMU's
    /// own daemonizing left to the subreaper. Only call it when no libvirt connection is open.
    func reapOrphansAfterLibvirt() {
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries where entry.first?.isNumber == true {
            guard let pid = pid_t(entry), let process = ProcessStat(pid: pid),
                  process.state == "Z", process.parent == me, process.command.hasPrefix("qemu-system") else { continue }
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
    }
}

/// The fields of `/proc/PID/stat` the reaper reads: `pid (comm) state ppid ...`.
struct ProcessStat {
    var command: String
    var state: String
    var parent: pid_t

    init?(pid: pid_t) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        self.init(statLine: stat)
    }

    init?(statLine stat: String) {
        // comm may hold spaces and parentheses: it ends at the last ')'.
        guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let parent = pid_t(fields[1]) else { return nil }
        command = String(stat[stat.index(after: open)..<close])
        state = String(fields[0])
        self.parent = parent
    }
}
