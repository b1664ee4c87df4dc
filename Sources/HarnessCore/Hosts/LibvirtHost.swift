import Foundation
import Libvirt
import Logging

/// One libvirt host of a run: its connection, what it can run, how many guests at once, and how
/// the run's files reach it (plain files on this machine, storage volumes on a remote one).
final class LibvirtHost: @unchecked Sendable {
    let index: Int
    let entry: HostEntry
    /// The URI as reports and logs show it (Redaction.uri).
    let displayURI: String
    let capacity: Int
    /// What the host runs, from its capabilities; nil for this machine's embedded driver, whose
    /// emulators the boot resolves on PATH.
    let capabilities: HostCapabilities?
    /// Set for a remote host: the run's files go there as volumes.
    let stager: VolumeStager?
    private(set) var record: HostRecord

    private let lock = NSLock()
    private var opened: HostConnection?
    private let open: () throws -> HostConnection

    /// Guests running now; the pool changes it under its own lock.
    var busy = 0
    /// Why the host dropped out of the run, once it did.
    var lost: String?

    /// This machine's embedded driver, opened by the first boot (so a run whose targets all stop
    /// earlier never opens it), `capacity` guests at once.
    init(localEmbeddedWith capacity: Int, cacheRoot: URL, logger: Logger) {
        index = 0
        let uri = HostConnection.embeddedURI(root: cacheRoot.appendingPathComponent("libvirt"))
        entry = HostEntry(uri: uri, capacity: capacity)
        displayURI = uri
        self.capacity = capacity
        capabilities = nil
        stager = nil
        record = HostRecord(uri: uri, capacity: capacity, artifacts: .files)
        open = { try HostConnection.open(connectURI: nil, cacheRoot: cacheRoot, logger: logger) }
    }

    /// A host the user named: connected now, its capabilities and size read, KVM probed if it
    /// advertises KVM.
    init(index: Int, entry: HostEntry, logger: Logger) throws {
        self.index = index
        self.entry = entry
        displayURI = Redaction.uri(entry.uri)
        let connection = try HostConnection(uri: entry.uri, logger: logger)
        opened = connection
        open = { connection }
        let libvirt = connection.libvirt
        let capabilities: HostCapabilities, node: NodeInfo
        do {
            capabilities = try HostCapabilities(xml: libvirt.capabilitiesXML())
            node = try libvirt.nodeInfo()
        } catch {
            connection.close()
            throw error
        }
        self.capabilities = capabilities
        let memoryMiB = Int(node.memoryKiB / 1024)
        // Each guest is one TCG thread of up to a GiB or so; leave the host a GiB of its own.
        let derived = max(1, min(node.cpus, (memoryMiB - 1024) / 1536))
        capacity = entry.capacity ?? derived
        let remote = Self.isRemote(entry.uri)
        stager = remote ? VolumeStager(connection: libvirt, poolName: entry.pool) : nil
        record = HostRecord(
            uri: displayURI, capacity: capacity, artifacts: remote ? .volumes : .files,
            libvirtVersion: try? libvirt.libvirtVersion(), hypervisorVersion: try? libvirt.hypervisorVersion(),
            cpus: node.cpus, memoryMiB: memoryMiB,
            arches: capabilities.guests.filter { $0.domainTypes.contains("qemu") }.map(\.name).sorted(),
            kvm: KVMProbe.run(on: libvirt, capabilities: capabilities),
            pool: stager?.poolName)
    }

    /// A host known by its capabilities alone (recorded from a real one), never connected: what the
    /// pool's choices are checked on.
    init(index: Int, entry: HostEntry, capabilities: HostCapabilities, capacity: Int) {
        self.index = index
        self.entry = entry
        displayURI = Redaction.uri(entry.uri)
        self.capacity = capacity
        self.capabilities = capabilities
        stager = nil
        record = HostRecord(uri: displayURI, capacity: capacity, artifacts: .files)
        let uri = displayURI
        open = { throw HarnessError.infrastructure("\(uri) is known by its capabilities only") }
    }

    /// A URI with a host part names another machine (`qemu+ssh://lab1/system`); one without
    /// (`qemu:///system`) is this machine, which reads the run's files where they are.
    static func isRemote(_ uri: String) -> Bool {
        guard let host = URLComponents(string: uri)?.host else { return false }
        return !host.isEmpty
    }

    func connection() throws -> HostConnection {
        try lock.withLock {
            if let opened { return opened }
            let connection = try open()
            opened = connection
            record.uri = Redaction.uri(connection.uri)
            record.libvirtVersion = try? connection.libvirt.libvirtVersion()
            return connection
        }
    }

    /// The connection if it was ever opened (for closing).
    var openedConnection: HostConnection? { lock.withLock { opened } }

    /// The emulator for `target` here, or why this host cannot run it.
    func emulator(for target: Target) -> Result<String?, HostCapabilities.Missing> {
        guard let capabilities else { return .success(nil) }
        return capabilities.emulator(for: target.profile).map { Optional($0) }
    }

    /// The record as the report shows it, with what was uploaded so far.
    func finalRecord() -> HostRecord {
        var final = lock.withLock { record }
        if let stager {
            final.uploadedBytes = stager.uploadedBytes
            final.uploadedVolumes = stager.uploadedVolumes
            final.reusedVolumes = stager.reusedVolumes
        }
        final.lost = lost
        return final
    }
}

/// Whether a host's KVM works, proved by a minimal KVM domain (firmware only) that still runs a
/// second after it started, bounded in time; the harness learns it but boots every guest under TCG, where its verdicts and
/// icount clocks are defined.
enum KVMProbe {
    static let timeout: TimeInterval = 20
    static let ranFor: TimeInterval = 1

    static func run(on libvirt: Connection, capabilities: HostCapabilities) -> HostRecord.KVM? {
        let advertised = capabilities.kvmArches
        guard !advertised.isEmpty else { return HostRecord.KVM(advertised: [], works: false, detail: "the host advertises no KVM guest arch") }
        let arch = advertised.contains(capabilities.hostArch) ? capabilities.hostArch : advertised[0]
        guard let guest = capabilities.guests.first(where: { $0.name == arch }) else { return nil }
        let xml = """
            <domain type='kvm'><name>\(HostConnection.domainPrefix)kvm-probe-\(getpid())</name><memory unit='MiB'>32</memory>\
            <os><type arch='\(DomainXML.escape(arch))'>hvm</type></os><devices><emulator>\(DomainXML.escape(guest.emulator))</emulator>\
            <memballoon model='none'/></devices></domain>
            """
        let done = StopSignal()
        let outcome = LockedBox<String?>(nil)
        Thread.detachNewThread {
            do {
                let domain = try libvirt.createTransientDomain(xml: xml, autoDestroy: true)
                Thread.sleep(forTimeInterval: ranFor)
                let state = try? domain.state()
                try? domain.destroy()
                guard let state, state.kind == .running else {
                    outcome.set("it was \(state.map { "\($0.kind)" } ?? "gone") \(Int(ranFor)) s after it started")
                    done.raise("fails")
                    return
                }
                done.raise("works")
            } catch {
                outcome.set("\(error)")
                done.raise("fails")
            }
        }
        guard let result = done.wait(until: Date().addingTimeInterval(timeout)) else {
            return HostRecord.KVM(advertised: advertised, works: false, detail: "an \(arch) KVM domain did not start within \(Int(timeout)) s")
        }
        if result == "works" {
            return HostRecord.KVM(advertised: advertised, works: true, detail: "an \(arch) KVM domain ran for \(Int(ranFor)) s; guests still run under TCG")
        }
        return HostRecord.KVM(advertised: advertised, works: false, detail: "an \(arch) KVM domain did not run: \(outcome.get() ?? "")")
    }
}

/// A value shared between threads.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ new: Value) { lock.withLock { value = new } }
    func get() -> Value { lock.withLock { value } }
}
