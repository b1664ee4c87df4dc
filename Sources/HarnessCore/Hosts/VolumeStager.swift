import Foundation
import Libvirt

/// Puts a run's kernels and initramfs on a remote host as storage volumes, named by content
/// (`sha256-<digest>`), so a file the host already holds is never sent again. A volume appears
/// under its final name only once complete: the upload goes to a partial volume, which the host
/// then copies to the final name itself (`virStorageVolCreateXMLFrom`, nothing crosses the
/// connection) before the partial one is deleted.
final class VolumeStager: @unchecked Sendable {
    /// The pool the harness defines when the host names none: a transient `dir` pool, whose folder
    /// (and so the volumes) outlives it.
    static let defaultPoolName = "dma-harness"
    static let defaultPoolPath = "/var/lib/libvirt/images/dma-harness"
    static let partialPrefix = "partial-"

    let poolName: String
    private let connection: Connection
    private let lock = NSLock()
    private var pool: StoragePool?
    /// Volume path by content digest: what this run staged on the host.
    private var staged: [String: (name: String, path: String)] = [:]
    private(set) var uploadedBytes: UInt64 = 0
    private(set) var uploadedVolumes = 0
    private(set) var reusedVolumes = 0

    init(connection: Connection, poolName: String?) {
        self.connection = connection
        self.poolName = poolName ?? Self.defaultPoolName
    }

    static func volumeName(digest: String) -> String { "sha256-\(digest)" }

    /// The host path of a volume holding exactly `file`'s bytes, uploading it if the host lacks one.
    /// One file at a time per host, so two targets sharing a kernel send it once.
    func stage(_ file: URL, digest: String) throws -> String {
        try lock.withLock {
            if let known = staged[digest] { return known.path }
            let pool = try openPool()
            let name = Self.volumeName(digest: digest)
            let size = try fileSize(file)
            if let existing = try pool.volume(named: name), try existing.capacity() == size {
                reusedVolumes += 1
                let path = try existing.path()
                staged[digest] = (name, path)
                return path
            }
            let partialName = "\(Self.partialPrefix)\(digest)-\(ProcessInfo.processInfo.hostName)-\(getpid())"
            try? pool.volume(named: partialName)?.delete()
            let partial = try pool.createVolume(xml: Self.volumeXML(name: partialName, bytes: size))
            do {
                uploadedBytes += try partial.upload(from: file)
                let complete = try pool.createVolume(xml: Self.volumeXML(name: name, bytes: size), copying: partial)
                try? partial.delete()
                uploadedVolumes += 1
                let path = try complete.path()
                staged[digest] = (name, path)
                return path
            } catch {
                try? partial.delete()
                throw error
            }
        }
    }

    /// Deletes every volume this run staged (the `remove` volume policy), returning the names it
    /// could not delete.
    func removeStaged() -> [String] {
        lock.withLock {
            var kept: [String] = []
            for (_, volume) in staged {
                do {
                    try pool?.volume(named: volume.name)?.delete()
                } catch {
                    kept.append(volume.name)
                }
            }
            staged = [:]
            return kept.sorted()
        }
    }

    /// The host's pool, found by name or, for the harness's own, created.
    private func openPool() throws -> StoragePool {
        if let pool { return pool }
        let found: StoragePool
        if let existing = try connection.storagePool(named: poolName) {
            if try !existing.isActive() { try existing.start() }
            try existing.refresh()
            found = existing
        } else if poolName == Self.defaultPoolName {
            found = try connection.createTransientStoragePool(xml: """
                <pool type='dir'><name>\(DomainXML.escape(poolName))</name><target><path>\(Self.defaultPoolPath)</path></target></pool>
                """)
        } else {
            throw HarnessError.usage("the host has no storage pool '\(poolName)': define it (virsh pool-define-as \(poolName) dir --target /var/lib/libvirt/images/\(poolName)) or drop pool= from its line")
        }
        removeAbandonedPartials(in: found)
        pool = found
        return found
    }

    /// Partial volumes that uploads from this machine left when their process died mid-upload.
    /// Other machines' partials are theirs to judge.
    private func removeAbandonedPartials(in pool: StoragePool) {
        let mine = "-\(ProcessInfo.processInfo.hostName)-"
        for name in (try? pool.volumeNames()) ?? [] where name.hasPrefix(Self.partialPrefix) && name.contains(mine) {
            guard let pid = Int32(name.split(separator: "-").last ?? ""), pid != getpid(), kill(pid, 0) != 0 else { continue }
            try? pool.volume(named: name)?.delete()
        }
    }

    private func fileSize(_ file: URL) throws -> UInt64 {
        guard let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber else {
            throw HarnessError.infrastructure("cannot read the size of \(file.path)")
        }
        return size.uint64Value
    }

    static func volumeXML(name: String, bytes: UInt64) -> String {
        """
        <volume><name>\(DomainXML.escape(name))</name><capacity unit='bytes'>\(bytes)</capacity>\
        <target><format type='raw'/><permissions><mode>0644</mode></permissions></target></volume>
        """
    }
}

/// sha256 of the files a run uploads, each file read once however many hosts and targets use it.
final class DigestCache: @unchecked Sendable {
    private let lock = NSLock()
    private var digests: [String: String] = [:]

    func sha256(of file: URL) throws -> String {
        if let known = lock.withLock({ digests[file.path] }) { return known }
        let digest = try FileDigest.sha256(of: file)
        lock.withLock { digests[file.path] = digest }
        return digest
    }
}
