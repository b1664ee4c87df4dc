import CSystemShims
import Foundation

/// Reaps the QEMU processes of the embedded driver's domains as soon as they exit, and no other.
///
/// libvirt starts a domain's QEMU through a daemonizing double fork, so the QEMU is nobody's child
/// and libvirt never waits for it: on destroy, `virProcessKillPainfully` polls `kill(pid, 0)` until
/// the process is gone, which for an exited QEMU means until someone reaps it. Left to PID 1 (a
/// slow init here) that took 1.1 to 2.0 s per guest. As a child subreaper this process inherits
/// those QEMUs and reaps them itself within a few milliseconds.
///
/// libvirt does wait for other processes it forks in this process: the capabilities probe
/// (`qemu-system-* -machine none ... -daemonize`) and each daemonizing parent. Reaping one of those
/// first makes libvirt's `waitpid` fail with ECHILD ("No child processes"), fails the domain start
/// and orphans the probe. So the reaper never scans for zombies: it waits only for pids it was told
/// are a domain's QEMU, read from the pid file libvirt writes for that domain.
///
/// What the subreaper inherits besides (the probe's daemon, killed by libvirt with SIGKILL and never
/// waited for) is reaped by `reapOrphansAfterLibvirt()`, once the connection is closed and libvirt
/// can no longer wait for anything.
final class QEMUReaper: @unchecked Sendable {
    static let shared = QEMUReaper()

    private let condition = NSCondition()
    private var started = false
    private var domainQEMUs: Set<pid_t> = []

    /// How often a watched pid is polled; the cost is one `waitpid(WNOHANG)` per watched QEMU.
    static let pollInterval: useconds_t = 5_000

    /// Becomes a subreaper and starts the reaping thread (once per process).
    func start() {
        let first: Bool = condition.withLock {
            defer { started = true }
            return !started
        }
        guard first, harness_set_child_subreaper() == 0 else { return }
        let thread = Thread { [self] in
            while true { reapExitedDomainQEMUs() }
        }
        thread.name = "qemu-reaper"
        thread.start()
    }

    /// Watches the QEMU whose pid libvirt wrote to `pidFile` (the domain's `<root>/run/qemu/NAME.pid`).
    /// Returns the pid, or nil when the file holds none.
    @discardableResult
    func watchDomainQEMU(pidFile: URL) -> pid_t? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { return nil }
        condition.withLock {
            domainQEMUs.insert(pid)
            condition.signal()
        }
        return pid
    }

    /// The domain QEMUs being watched (for tests and diagnostics).
    var watchedPids: Set<pid_t> { condition.withLock { domainQEMUs } }

    /// Waits for watched QEMUs; sleeps on the condition while there are none.
    private func reapExitedDomainQEMUs() {
        let watched: Set<pid_t> = condition.withLock {
            while domainQEMUs.isEmpty { condition.wait() }
            return domainQEMUs
        }
        for pid in watched {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            // pid: reaped now. ECHILD: not (yet) re-parented to us, or reaped already; the former
            // only lasts while the daemonizing parent exits, so keep it unless the process is gone.
            if result == pid || (result < 0 && errno == ECHILD && kill(pid, 0) != 0) {
                _ = condition.withLock { domainQEMUs.remove(pid) }
            }
        }
        usleep(Self.pollInterval)
    }

    /// Reaps every exited `qemu-system*` child, after the libvirt connection is closed: the probe
    /// daemons libvirt killed and never waits for. Only call it when no libvirt connection is open.
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
