import CLibvirt
import Foundation

/// A connection to a libvirt driver (`virConnectPtr`), e.g. `test:///default` or the embedded
/// QEMU driver `qemu:///embed?root=DIR`.
///
/// Thread-safe: libvirt's API is thread-safe per connection, and every call here takes its own
/// reference on the handle (`virConnectRef`), so `close()` on one thread never frees the handle
/// under a call running on another.
///
/// With the embedded QEMU driver, transient domains die with the connection that made them:
/// keep the `Connection` open for as long as its guests should run.
public final class Connection: @unchecked Sendable {
    /// The URI libvirt reports for this connection (`virConnectGetURI`), or the one asked for
    /// if libvirt cannot say.
    public let uri: String

    private let lock = NSLock()
    private var handle: OpaquePointer?
    private var eventCallbackIDs: Set<Int32> = []

    /// Opens a read-write connection (`virConnectOpen`), starting libvirt's event loop first
    /// (`EventLoop.startDefault()`), which lifecycle events, consoles and the embedded driver need.
    public init(uri: String) throws {
        try EventLoop.startDefault()
        let opened = try checkPointer("virConnectOpen") { virConnectOpen(uri) }
        handle = opened
        self.uri = takeString(virConnectGetURI(opened)) ?? uri
        virResetLastError()
    }

    deinit {
        close()
    }

    /// Closes the connection (`virConnectClose`), first deregistering every lifecycle handler
    /// still registered through it (`virConnectDomainEventDeregisterAny`), since each holds a
    /// reference that would otherwise keep the connection open.
    ///
    /// Idempotent. Domain and console objects still alive keep libvirt's connection object
    /// alive until they are released; later calls on this `Connection` throw.
    public func close() {
        lock.lock()
        let closing = handle
        let callbackIDs = eventCallbackIDs
        let hadCloseCallback = closeCallbackRegistered
        handle = nil
        eventCallbackIDs = []
        closeCallbackRegistered = false
        lock.unlock()

        guard let closing else { return }
        // A close of our own is not a lost connection: the handler must not hear of it.
        if hadCloseCallback, virConnectUnregisterCloseCallback(closing, closeTrampoline) < 0 {
            virResetLastError()
        }
        for callbackID in callbackIDs where virConnectDomainEventDeregisterAny(closing, callbackID) < 0 {
            virResetLastError()
        }
        if virConnectClose(closing) < 0 {
            virResetLastError()
        }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return handle == nil
    }

    /// libvirt's own version, e.g. `"9.0.0"` (`virConnectGetLibVersion`).
    public func libvirtVersion() throws -> String {
        try withHandle { connection in
            var version: UInt = 0
            try check("virConnectGetLibVersion") { virConnectGetLibVersion(connection, &version) }
            return formatVersion(version)
        }
    }

    /// The hypervisor's version, e.g. `"7.2.0"` for QEMU 7.2 (`virConnectGetVersion`).
    public func hypervisorVersion() throws -> String {
        try withHandle { connection in
            var version: UInt = 0
            try check("virConnectGetVersion") { virConnectGetVersion(connection, &version) }
            return formatVersion(version)
        }
    }

    /// The host's capabilities XML (`virConnectGetCapabilities`): its guest arches, each with its
    /// emulator, machines and domain types.
    public func capabilitiesXML() throws -> String {
        try withHandle { connection in
            takeString(try checkPointer("virConnectGetCapabilities") { virConnectGetCapabilities(connection) }) ?? ""
        }
    }

    /// The host's CPUs and memory (`virNodeGetInfo`).
    public func nodeInfo() throws -> NodeInfo {
        try withHandle { connection in
            var info = virNodeInfo()
            try check("virNodeGetInfo") { virNodeGetInfo(connection, &info) }
            return NodeInfo(cpus: Int(info.cpus), memoryKiB: UInt64(info.memory))
        }
    }

    /// Whether the connection still reaches its driver (`virConnectIsAlive`): false once a remote
    /// daemon died or its network went away (and keepalive noticed).
    public var isAlive: Bool {
        (try? withHandle { virConnectIsAlive($0) == 1 }) ?? false
    }

    /// Has a remote connection probe its daemon every `interval` seconds and give up after `count`
    /// unanswered probes (`virConnectSetKeepAlive`), so a cut network ends the connection in
    /// about interval × (count + 1) seconds. Local drivers have no keepalive; this is then a no-op.
    public func setKeepAlive(interval: Int32, count: UInt32) throws {
        try withHandle { connection in
            _ = try check("virConnectSetKeepAlive") { virConnectSetKeepAlive(connection, interval, count) }
        }
    }

    /// Calls `handler` once, on the event-loop thread, when the connection closes for a reason other
    /// than `close()`: the daemon died, the network went away, keepalive gave up
    /// (`virConnectRegisterCloseCallback`). The handler gets libvirt's reason.
    public func onConnectionLost(_ handler: @escaping (String) -> Void) throws {
        try withHandle { connection in
            let box = Unmanaged.passRetained(CloseHandlerBox(handler))
            if virConnectRegisterCloseCallback(connection, closeTrampoline, box.toOpaque(), releaseCloseHandlerBox) < 0 {
                box.release()
                throw LibvirtError.last("virConnectRegisterCloseCallback")
            }
            lock.withLock { closeCallbackRegistered = true }
        }
    }

    private var closeCallbackRegistered = false

    /// Creates and starts a transient domain from its XML (`virDomainCreateXML`), paused before
    /// its first instruction if `startPaused` (`VIR_DOMAIN_START_PAUSED`), so a console can be
    /// opened before the guest prints anything. With `autoDestroy` (`VIR_DOMAIN_START_AUTODESTROY`)
    /// the domain dies with this connection, so a client that dies cannot leave it running on a
    /// remote host.
    public func createTransientDomain(xml: String, startPaused: Bool = false, autoDestroy: Bool = false) throws -> Domain {
        try withHandle { connection in
            let flags: UInt32 = (startPaused ? VIR_DOMAIN_START_PAUSED.rawValue : 0)
                | (autoDestroy ? VIR_DOMAIN_START_AUTODESTROY.rawValue : 0)
            let created = try checkPointer("virDomainCreateXML") {
                virDomainCreateXML(connection, xml, flags)
            }
            return Domain(taking: created)
        }
    }

    /// Creates a transient domain (`virDomainCreateXML`), runs `body` with it, and destroys it
    /// afterwards (`virDomainDestroy`) whether `body` returns or throws.
    ///
    /// If `body` throws, its error is rethrown and a failing tear-down is ignored; if `body`
    /// returns, a failing tear-down is thrown.
    public func withTransientDomain<T>(
        xml: String,
        startPaused: Bool = false,
        _ body: (Domain) throws -> T
    ) throws -> T {
        let domain = try createTransientDomain(xml: xml, startPaused: startPaused)
        let result: T
        do {
            result = try body(domain)
        } catch {
            try? domain.destroy()
            throw error
        }
        try domain.destroy()
        return result
    }

    /// Looks a domain up by name (`virDomainLookupByName`); nil if there is none
    /// (`VIR_ERR_NO_DOMAIN`).
    public func domain(named name: String) throws -> Domain? {
        try withHandle { connection in
            guard let found = virDomainLookupByName(connection, name) else {
                let error = LibvirtError.last("virDomainLookupByName")
                if error.isNoDomain { return nil }
                throw error
            }
            return Domain(taking: found)
        }
    }

    /// The names of all running and paused domains (`virConnectListAllDomains` with
    /// `VIR_CONNECT_LIST_DOMAINS_ACTIVE`), sorted.
    public func activeDomainNames() throws -> [String] {
        try withHandle { connection in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let count = try check("virConnectListAllDomains") {
                virConnectListAllDomains(connection, &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue)
            }
            guard let list else { return [] }
            defer { free(list) }
            var names: [String] = []
            for index in 0..<Int(count) {
                guard let domain = list[index] else { continue }
                if let name = virDomainGetName(domain) {
                    names.append(String(cString: name))
                }
                virDomainFree(domain)
            }
            return names.sorted()
        }
    }

    /// Calls `handler` for every domain lifecycle event on this connection
    /// (`virConnectDomainEventRegisterAny` with `VIR_DOMAIN_EVENT_ID_LIFECYCLE`, all domains).
    ///
    /// The handler runs on the event-loop thread (`EventLoop.threadName`): keep it short and
    /// never block it on work that needs the event loop. It stays registered until
    /// `EventRegistration.cancel()` or `close()`; dropping the registration does not cancel it.
    public func onDomainLifecycle(
        _ handler: @escaping (DomainLifecycleEvent) -> Void
    ) throws -> EventRegistration {
        try withHandle { connection in
            let box = Unmanaged.passRetained(LifecycleHandlerBox(handler))
            let callbackID = virConnectDomainEventRegisterAny(
                connection,
                nil,
                Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue),
                unsafeBitCast(lifecycleTrampoline, to: virConnectDomainEventGenericCallback.self),
                box.toOpaque(),
                releaseLifecycleHandlerBox
            )
            if callbackID < 0 {
                let error = LibvirtError.last("virConnectDomainEventRegisterAny")
                // libvirt does not call the free callback when registration fails.
                box.release()
                throw error
            }
            lock.lock()
            eventCallbackIDs.insert(callbackID)
            lock.unlock()
            return EventRegistration(connection: self, callbackID: callbackID)
        }
    }

    /// Deregisters one lifecycle callback (`virConnectDomainEventDeregisterAny`), unless
    /// `close()` or an earlier call already did.
    func deregisterLifecycleCallback(_ callbackID: Int32) {
        lock.lock()
        guard eventCallbackIDs.remove(callbackID) != nil, let current = handle else {
            lock.unlock()
            return
        }
        virConnectRef(current)
        lock.unlock()
        defer { virConnectClose(current) }
        if virConnectDomainEventDeregisterAny(current, callbackID) < 0 {
            virResetLastError()
        }
    }

    /// Runs `body` with the raw handle, holding a libvirt reference on it for the duration so
    /// a concurrent `close()` cannot free it; throws if the connection is closed.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        lock.lock()
        guard let current = handle else {
            lock.unlock()
            throw LibvirtError.wrapper("Connection", "the connection to \(uri) is closed")
        }
        virConnectRef(current)
        lock.unlock()
        defer { virConnectClose(current) }
        return try body(current)
    }
}

/// A host's CPUs and memory, as `virNodeGetInfo` reports them.
public struct NodeInfo: Sendable, Equatable {
    public var cpus: Int
    public var memoryKiB: UInt64
}

// MARK: - Close callback plumbing

private final class CloseHandlerBox {
    let handler: (String) -> Void
    init(_ handler: @escaping (String) -> Void) { self.handler = handler }
}

/// `virConnectCloseFunc`: (connection, reason, opaque).
private let closeTrampoline: @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = { _, reason, opaque in
    guard let opaque else { return }
    let why: String
    switch UInt32(reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR.rawValue: why = "the connection failed (I/O error)"
    case VIR_CONNECT_CLOSE_REASON_EOF.rawValue: why = "the daemon closed the connection"
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE.rawValue: why = "the daemon stopped answering keepalive probes"
    default: why = "the connection closed (reason \(reason))"
    }
    Unmanaged<CloseHandlerBox>.fromOpaque(opaque).takeUnretainedValue().handler(why)
}

private let releaseCloseHandlerBox: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    Unmanaged<CloseHandlerBox>.fromOpaque(opaque).release()
}

// MARK: - Lifecycle callback plumbing

/// Keeps the Swift handler alive while libvirt holds its opaque pointer.
private final class LifecycleHandlerBox {
    let handler: (DomainLifecycleEvent) -> Void

    init(_ handler: @escaping (DomainLifecycleEvent) -> Void) {
        self.handler = handler
    }
}

/// `virConnectDomainEventCallback`: (connection, domain, event, detail, opaque).
private let lifecycleTrampoline: @convention(c) (
    OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?
) -> Void = { _, domain, event, detail, opaque in
    guard let opaque else { return }
    let box = Unmanaged<LifecycleHandlerBox>.fromOpaque(opaque).takeUnretainedValue()
    let name = domain.flatMap { virDomainGetName($0) }.map { String(cString: $0) } ?? ""
    box.handler(DomainLifecycleEvent(domainName: name, kind: .init(rawValue: event), detail: detail))
}

/// `virFreeCallback` for the handler box: libvirt calls it once the callback is deregistered
/// and no dispatch of it is still running.
private let releaseLifecycleHandlerBox: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    Unmanaged<LifecycleHandlerBox>.fromOpaque(opaque).release()
}
