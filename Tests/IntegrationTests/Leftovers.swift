import Foundation
@testable import HarnessCore

/// What a finished harness process left behind on the host. Every fault test ends with this one
/// check, and it must find nothing: no process, no domain, no temporary folder, no lock.
struct Leftovers {
    /// The harness process that finished.
    var pid: Int32
    /// The folders the run was given (`--out`, `--cache-dir`) or used (the libvirt root).
    var folders: [URL]
    var cacheRoot: URL

    init(of result: HarnessProcess.Result, out: URL, cacheRoot: URL = RunOptions.defaultCacheRoot) {
        pid = result.pid
        self.cacheRoot = cacheRoot
        folders = [out, cacheRoot, cacheRoot.appendingPathComponent("libvirt")]
    }

    /// Every leftover found, one line each; empty when the host is clean.
    func found() -> [String] {
        processes().map { "process: \($0)" } + domains().map { "domain: \($0)" }
            + temporaryFolders().map { "temporary: \($0)" } + heldLocks().map { "lock held: \($0)" }
    }

    /// Processes whose command line names the run's folders or its domains (QEMU, make, apt-get...).
    func processes() -> [String] {
        let me = getpid()
        let needles = folders.map(\.path) + ["guest=\(HostConnection.domainPrefix)\(pid)-"]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard let other = Int32(entry), other != me,
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { return nil }
            let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return needles.contains { commandLine.contains($0) } ? "\(entry) \(commandLine.prefix(200))" : nil
        }
    }

    /// Domains of this run still known to libvirt. The embedded driver keeps a status file for each
    /// live domain under `<root>/run/qemu`; any root the run may have used is looked at.
    func domains() -> [String] {
        let roots = [cacheRoot.appendingPathComponent("libvirt"),
                     cacheRoot.appendingPathComponent("\(HostConnection.privateRootPrefix)\(pid)")]
        return roots.flatMap { root -> [String] in
            let run = root.appendingPathComponent("run/qemu")
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
            return entries.filter { $0.hasPrefix("\(HostConnection.domainPrefix)\(pid)-") }.map { "\(run.path)/\($0)" }
        }
    }

    /// Temporary files and folders of this process: in the system's temporary folder, and the
    /// private libvirt root and partial downloads in the cache.
    func temporaryFolders() -> [String] {
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        let inTemporary = temporary.filter { $0.hasPrefix("dma-harness-") && $0.contains("-\(pid)") }
        let inCache = allFiles(under: cacheRoot).filter { path in
            path.hasSuffix("/\(HostConnection.privateRootPrefix)\(pid)") || path.contains("/\(DebianArchive.downloadFolderPrefix)\(pid)-")
        }
        return inTemporary + inCache + rootAliases()
    }

    /// Short links in /tmp to a libvirt root of the run (HostConnection.socketSafeAlias), which the
    /// run removes when it closes its connection.
    func rootAliases() -> [String] {
        let roots = [cacheRoot.appendingPathComponent("libvirt"),
                     cacheRoot.appendingPathComponent("\(HostConnection.privateRootPrefix)\(pid)")].map(\.path)
        return HostConnection.rootAliases().filter { roots.contains($0.root) }.map { "\($0.link.path) -> \($0.root)" }
    }

    /// Lock files in the cache that another process still holds (a child that inherited the descriptor).
    func heldLocks() -> [String] {
        allFiles(under: cacheRoot).filter { $0.hasSuffix(".lock") || $0.hasSuffix("libvirt.owner") }.filter { path in
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
            flock(descriptor, LOCK_UN)
            return false
        }
    }

    /// Paths under `folder`, not descending into extracted kernel trees (they are large and never locked).
    private func allFiles(under folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var paths: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.contains("/usr/src/") || relative.contains("/lib/modules/") { walker.skipDescendants() }
            paths.append(folder.appendingPathComponent(relative).path)
        }
        return paths
    }
}
