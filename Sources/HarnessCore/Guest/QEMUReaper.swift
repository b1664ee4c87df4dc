import CSystemShims
import Foundation

/// Reaps QEMU processes of the embedded driver as soon as they exit.
///
/// libvirt daemonizes QEMU, so an exited QEMU is normally reaped by PID 1, and until then libvirt's
/// `virProcessKillPainfully` sees it alive and keeps polling. Under a slow init that cost up to two
/// seconds per guest. As a child subreaper this process inherits its QEMUs and reaps them itself.
/// Only zombies named `qemu-system*` are reaped, so `Process` children keep their exit statuses.
final class QEMUReaper: @unchecked Sendable {
    static let shared = QEMUReaper()

    private let lock = NSLock()
    private var started = false

    /// Becomes a subreaper and starts the reaping thread (once per process).
    func start() {
        let first: Bool = lock.withLock {
            defer { started = true }
            return !started
        }
        guard first, harness_set_child_subreaper() == 0 else { return }
        let thread = Thread { [self] in
            while true {
                reapExitedQEMU()
                usleep(20_000)
            }
        }
        thread.name = "qemu-reaper"
        thread.start()
    }

    private func reapExitedQEMU() {
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            // /proc/PID/stat: pid (comm) state ppid ...
            let comm = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] == "Z", Int32(fields[1]) == me, comm.hasPrefix("qemu-system"),
                  let pid = Int32(entry) else { continue }
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
    }
}
