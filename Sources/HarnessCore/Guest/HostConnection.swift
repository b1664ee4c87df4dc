import Foundation
import Libvirt
import Logging

/// The libvirt connection a run boots its guests through. By default the embedded QEMU driver
/// (`qemu:///embed?root=<cache>/libvirt`), which runs inside this process and needs no daemon;
/// any other URI (`qemu:///system`, `qemu+ssh://...`) via `--connect`.
public final class HostConnection: @unchecked Sendable {
    public let libvirt: Connection
    public let uri: String
    /// The embedded driver's root, when the connection is embedded; QEMU logs are read from there.
    public let embeddedRoot: URL?

    /// Domains this tool creates are named `dmah-<pid>-<target>`, so stale ones are recognisable.
    public static let domainPrefix = "dmah-"

    /// The embedded driver's URI for a root folder, the path percent-encoded (libvirt decodes URI
    /// parameters), so a `&`, `#`, `?` or space in it cannot end the parameter or the URI.
    public static func embeddedURI(root: URL) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        allowed.insert(charactersIn: "-._~/")
        return "qemu:///embed?root=\(root.path.addingPercentEncoding(withAllowedCharacters: allowed) ?? root.path)"
    }

    /// The connection for a run: `connectURI` when given, else the embedded driver under the cache.
    /// The embedded root admits one process at a time; a concurrent run gets a private root of its
    /// own, seeded with the shared root's QEMU capabilities so it skips the slow probe, and removed
    /// when the connection closes.
    public static func open(connectURI: String?, cacheRoot: URL, logger: Logger) throws -> HostConnection {
        if let connectURI { return try HostConnection(uri: connectURI, logger: logger) }
        let shared = cacheRoot.appendingPathComponent("libvirt")
        removeAbandonedPrivateRoots(in: cacheRoot)
        // A process can open one embedded root only, even after a failed attempt: decide first, with
        // a lock of our own that whoever uses the shared root holds until it exits (race-free, and
        // released by the kernel if that process dies).
        if let owner = claimSharedRoot(in: cacheRoot) {
            let connection = try HostConnection(uri: embeddedURI(root: shared), logger: logger)
            connection.sharedRootClaim = owner
            return connection
        }
        let privateRoot = cacheRoot.appendingPathComponent("\(privateRootPrefix)\(getpid())")
        logger.info("another run holds \(shared.path); using \(privateRoot.path) for this one")
        let capabilities = "cache/qemu/capabilities"
        try? FileManager.default.createDirectory(
            at: privateRoot.appendingPathComponent(capabilities).deletingLastPathComponent(),
            withIntermediateDirectories: true)
        try? FileManager.default.copyItem(at: shared.appendingPathComponent(capabilities),
                                          to: privateRoot.appendingPathComponent(capabilities))
        let connection = try HostConnection(uri: embeddedURI(root: privateRoot), logger: logger)
        connection.removeRootOnClose = true
        return connection
    }

    /// The shared root's claim: an open descriptor holding `flock` on `<cache>/libvirt.owner`, or nil
    /// when another live process holds it.
    static func claimSharedRoot(in cacheRoot: URL) -> Int32? {
        try? FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        let descriptor = Glibc.open(cacheRoot.appendingPathComponent("libvirt.owner").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Held for the connection's life when it uses the shared root.
    private var sharedRootClaim: Int32?

    static let privateRootPrefix = "libvirt-run-"
    private var removeRootOnClose = false

    /// Closes the connection; a private root goes with it.
    public func close() {
        lifecycleRegistration?.cancel()
        libvirt.close()
        if let embeddedRoot {
            QEMUReaper.shared.unwatch(root: embeddedRoot)
            QEMUReaper.shared.reapOrphansAfterLibvirt()
        }
        if removeRootOnClose, let embeddedRoot {
            try? FileManager.default.removeItem(at: embeddedRoot)
        }
        // Whoever opens a root holds it alone (its claim, or a private root's pid), so the link is
        // this run's to remove; the next run of the root makes it again.
        if let rootAlias { try? FileManager.default.removeItem(at: rootAlias) }
        if let claim = sharedRootClaim {
            Glibc.close(claim)
            sharedRootClaim = nil
        }
    }

    /// Private roots whose process is gone (killed before it could clean up).
    private static func removeAbandonedPrivateRoots(in cacheRoot: URL) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: cacheRoot.path)) ?? []
        for entry in entries where entry.hasPrefix(privateRootPrefix) {
            guard let pid = Int32(entry.dropFirst(privateRootPrefix.count)), kill(pid, 0) != 0 else { continue }
            try? FileManager.default.removeItem(at: cacheRoot.appendingPathComponent(entry))
        }
    }

    public init(uri: String, logger: Logger) throws {
        self.uri = uri
        self.embeddedRoot = Self.embeddedRoot(of: uri)
        if let root = embeddedRoot {
            QEMUReaper.shared.watch(root: root)
            try Self.prepareEmbeddedRoot(root)
            // The embedded driver logs to stderr by default; its log belongs beside its state.
            setenv("LIBVIRT_LOG_OUTPUTS", "3:file:\(root.appendingPathComponent("log/libvirt.log").path)", 0)
            setenv("LIBVIRT_LOG_FILTERS", "3:*", 0)
        }
        // The URI opened may name a short alias of the root; the report keeps the real one.
        var openedURI = uri
        if let root = embeddedRoot, let alias = try Self.socketSafeAlias(for: root) {
            openedURI = Self.embeddedURI(root: alias)
            rootAlias = alias
        }
        do {
            libvirt = try Connection(uri: openedURI)
        } catch let error as LibvirtError {
            throw HarnessError.infrastructure(
                "cannot connect to libvirt at \(Redaction.uri(uri)): \(Redaction.uri(error.message)) (is libvirt-daemon-driver-qemu installed? `harness doctor` checks the host)")
        }
        let router = stopRouter
        if embeddedRoot != nil {
            destroyStaleDomains(logger: logger)
        } else {
            // A remote daemon's domains are another machine's pids: none is judged stale here. The
            // boots ask libvirt to destroy them with this connection instead (autodestroy), and a
            // lost connection ends every boot waiting on it.
            try? libvirt.setKeepAlive(interval: Self.keepAliveInterval, count: Self.keepAliveCount)
            let display = Redaction.uri(uri)
            let lost = lostReason
            try? libvirt.onConnectionLost { why in
                lost.set(why)
                router.raiseAll("the connection to \(display) was lost: \(why)")
            }
        }
        // libvirt tracks one lifecycle callback per connection and domain filter, so one
        // registration serves every guest of the run and routes events by domain name.
        do {
            lifecycleRegistration = try libvirt.onDomainLifecycle { event in
                if event.isStopped { router.route(event.domainName, reason: event.stoppedReason ?? "\(event)") }
            }
        } catch let error as LibvirtError {
            throw HarnessError.infrastructure("cannot watch domain lifecycle events on \(Redaction.uri(uri)): \(error.message)")
        }
    }

    private let stopRouter = StopRouter()
    /// Why the connection to a remote daemon was lost, once it was.
    private let lostReason = LockedBox<String?>(nil)
    public var lost: String? { lostReason.get() }
    /// A cut network ends a remote connection within about 2 × (3 + 1) = 8 s.
    static let keepAliveInterval: Int32 = 2
    static let keepAliveCount: UInt32 = 3
    /// Whether libvirt runs the guests on this machine, so QEMU's log and console file are ours to read.
    public var isEmbedded: Bool { embeddedRoot != nil }
    private var lifecycleRegistration: EventRegistration?
    /// The short link the embedded driver was opened through, when the root's own path is too long.
    private var rootAlias: URL?

    /// libvirt makes each domain's monitor socket under the root
    /// (`<root>/lib/qemu/domain-N-<20 chars of the name>/monitor.sock`, 56 bytes past the root), and a
    /// UNIX socket path holds 107 bytes at most: a root longer than this is reached through a link.
    static let longestDirectRoot = 48

    /// FNV-1a, 64 bits, in hex: a stable short name for a path (not a security boundary).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    static let aliasFolder = URL(fileURLWithPath: "/tmp")
    static let aliasPrefix = "dmah-root-"

    /// A link `/tmp/dmah-root-<digest of the path>` to `root` when `root` is too long to hold sockets,
    /// else nil. The link is stable per root, so concurrent and later runs share it.
    static func socketSafeAlias(for root: URL) throws -> URL? {
        guard root.path.utf8.count > longestDirectRoot else { return nil }
        removeDanglingAliases()
        let alias = aliasFolder.appendingPathComponent("\(aliasPrefix)\(fnv1a(root.path))")
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: alias.path)) == root.path { return alias }
        try? FileManager.default.removeItem(at: alias)
        do {
            try FileManager.default.createSymbolicLink(at: alias, withDestinationURL: root)
        } catch where (try? FileManager.default.destinationOfSymbolicLink(atPath: alias.path)) == root.path {
            // A concurrent run made the same link first.
        } catch {
            throw HarnessError.infrastructure("cannot link \(alias.path) to libvirt's folder \(root.path) (its path is too long for libvirt's sockets): \(error.localizedDescription)")
        }
        return alias
    }

    /// Links whose root is gone, left by a run killed before it closed its connection. A root is
    /// made before its link, so a live run's link never dangles.
    static func removeDanglingAliases() {
        for alias in rootAliases() where !FileManager.default.fileExists(atPath: alias.root) {
            try? FileManager.default.removeItem(at: alias.link)
        }
    }

    /// Every root link in the alias folder, with the root it names.
    static func rootAliases() -> [(link: URL, root: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: aliasFolder.path)) ?? []
        return entries.filter { $0.hasPrefix(aliasPrefix) }.compactMap { entry in
            let link = aliasFolder.appendingPathComponent(entry)
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)).map { (link, $0) }
        }
    }

    /// Raises `signal` when the domain named `domainName` stops, for as long as the signal is watched.
    func watchStop(of domainName: String, with signal: StopSignal) { stopRouter.add(domainName, signal) }

    func unwatchStop(of domainName: String) { stopRouter.remove(domainName) }

    /// A unique domain name for a target in this process; on a daemon that other machines share,
    /// the name also carries a tag of this machine's name, since pids repeat across machines.
    public func domainName(for target: Target) -> String {
        if isEmbedded { return "\(Self.domainPrefix)\(getpid())-\(target.id)" }
        return "\(Self.domainPrefix)\(getpid())-\(Self.fnv1a(ProcessInfo.processInfo.hostName).prefix(6))-\(target.id)"
    }

    /// Copies QEMU's log for a domain into `folder` as `qemu.log` (embedded driver only).
    func collectQEMULog(domainName: String, into folder: URL) {
        guard let root = embeddedRoot else { return }
        let source = root.appendingPathComponent("log/qemu/\(domainName).log")
        let destination = folder.appendingPathComponent("qemu.log")
        guard FileManager.default.fileExists(atPath: source.path) else { return }
        try? FileManager.default.removeItem(at: destination)
        try? FileManager.default.copyItem(at: source, to: destination)
        try? FileManager.default.removeItem(at: source)
    }

    func qemuLogCopy(in folder: URL) -> URL? {
        let file = folder.appendingPathComponent("qemu.log")
        return FileManager.default.fileExists(atPath: file.path) ? file : nil
    }

    /// Destroys domains left by runs whose process is gone (killed before it could clean up).
    private func destroyStaleDomains(logger: Logger) {
        guard let names = try? libvirt.activeDomainNames() else { return }
        for name in names where name.hasPrefix(Self.domainPrefix) {
            let pidText = name.dropFirst(Self.domainPrefix.count).prefix { $0.isNumber }
            guard let pid = Int32(pidText), pid != getpid(), kill(pid, 0) != 0 else { continue }
            logger.warning("destroying stale domain \(name) left by process \(pid)")
            try? libvirt.domain(named: name)?.destroy()
        }
    }

    static func embeddedRoot(of uri: String) -> URL? {
        guard uri.hasPrefix("qemu:///embed"), let components = URLComponents(string: uri),
              let root = components.queryItems?.first(where: { $0.name == "root" })?.value
        else { return nil }
        return URL(fileURLWithPath: root)
    }

    /// The embedded driver reads `<root>/etc/qemu.conf`: as root it must run QEMU as root, and
    /// `stdio_handler = "file"` keeps it from wanting a virtlogd socket (FIELD-NOTES, libvirt).
    /// libvirt appends to `<root>/log/libvirt.log` for ever; each run that opens the root starts a
    /// new one and keeps the last run's as `libvirt.log.1`, so the root does not grow run after run.
    /// Only the root's one holder calls this (the shared root's claim, or a private root).
    static func rotateLibvirtLog(in root: URL) {
        let log = root.appendingPathComponent("log/libvirt.log")
        guard FileManager.default.fileExists(atPath: log.path) else { return }
        let previous = log.appendingPathExtension("1")
        try? FileManager.default.removeItem(at: previous)
        try? FileManager.default.moveItem(at: log, to: previous)
    }

    static func prepareEmbeddedRoot(_ root: URL) throws {
        let etc = root.appendingPathComponent("etc")
        do {
            try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("log"), withIntermediateDirectories: true)
            rotateLibvirtLog(in: root)
            let conf = etc.appendingPathComponent("qemu.conf")
            let identity = getuid() == 0 ? "user = \"root\"\ngroup = \"root\"\n" : ""
            // QEMU runs as this user on files this user owns: no relabelling, and no ownership
            // xattrs on cached kernels (whose stale timestamps libvirt would warn about).
            let wanted = identity + "stdio_handler = \"file\"\ndynamic_ownership = 0\nremember_owner = 0\ncgroup_controllers = [ ]\n"
            if (try? String(contentsOf: conf, encoding: .utf8)) != wanted {
                try wanted.write(to: conf, atomically: true, encoding: .utf8)
            }
        } catch {
            throw HarnessError.usage("cannot prepare libvirt's folder \(root.path): \(error.localizedDescription); choose another --cache-dir")
        }
    }
}

/// Routes "domain stopped" events to the boot waiting for that domain.
final class StopRouter: @unchecked Sendable {
    private let lock = NSLock()
    private var signals: [String: StopSignal] = [:]

    func add(_ name: String, _ signal: StopSignal) { lock.withLock { signals[name] = signal } }
    func remove(_ name: String) { _ = lock.withLock { signals.removeValue(forKey: name) } }
    func route(_ name: String, reason: String) { lock.withLock { signals[name] }?.raise(reason) }
    /// Ends every boot waiting on the connection (it was lost).
    func raiseAll(_ reason: String) { lock.withLock { Array(signals.values) }.forEach { $0.raise(reason) } }
}
