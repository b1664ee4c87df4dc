import Foundation

/// Free space on the file system that holds a folder (`statvfs`), for the checks that tell a full
/// disk from a guest that stopped talking.
enum DiskSpace {
    /// Below this, a console or report being written there may have been cut short.
    static let exhaustedBelow: UInt64 = 64 * 1024

    /// Bytes an unprivileged writer may still use on `folder`'s file system, or nil if unknown.
    static func availableBytes(at folder: URL) -> UInt64? {
        var stats = statvfs()
        guard statvfs(folder.path, &stats) == 0 else { return nil }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }

    static func isExhausted(at folder: URL) -> Bool {
        availableBytes(at: folder).map { $0 < exhaustedBelow } ?? false
    }

    /// Bytes used by the files under `folder` (`du -sb`), 0 when it cannot be measured.
    static func usedBytes(under folder: URL) -> Int {
        let outcome = try? Subprocess.run("du", ["-sb", folder.path])
        return outcome.flatMap { Int($0.standardOutput.prefix { $0.isNumber }) } ?? 0
    }
}
