import CLibvirt
import Foundation

/// A libvirt domain (`virDomainPtr`), freed with `virDomainFree` when released.
///
/// Holding a `Domain` keeps libvirt's connection object alive (libvirt counts the reference),
/// but not the guest: a transient guest still dies when destroyed or when its embedded
/// driver's connection closes. Thread-safe: the handle is immutable and libvirt's calls on it
/// are thread-safe.
public final class Domain: @unchecked Sendable {
    /// The domain's name (`virDomainGetName`).
    public let name: String
    /// The domain's UUID in its usual text form (`virDomainGetUUIDString`).
    public let uuidString: String

    private let handle: OpaquePointer

    /// Takes ownership of one reference on `handle` (from `virDomainCreateXML`, a lookup, ...).
    init(taking handle: OpaquePointer) {
        self.handle = handle
        name = virDomainGetName(handle).map { String(cString: $0) } ?? ""
        var buffer = [CChar](repeating: 0, count: 64)  // VIR_UUID_STRING_BUFLEN is 37
        if virDomainGetUUIDString(handle, &buffer) == 0 {
            uuidString = String(cString: buffer)
        } else {
            virResetLastError()
            uuidString = ""
        }
    }

    deinit {
        virDomainFree(handle)
    }

    /// Resumes a paused domain (`virDomainResume`).
    public func resume() throws {
        try check("virDomainResume") { virDomainResume(handle) }
    }

    /// Suspends a running domain (`virDomainSuspend`).
    public func suspend() throws {
        try check("virDomainSuspend") { virDomainSuspend(handle) }
    }

    /// Kills the domain's emulator at once (`virDomainDestroy`); a transient domain then
    /// disappears.
    ///
    /// A domain that is not running, or that is already gone, counts as destroyed: libvirt's
    /// `VIR_ERR_OPERATION_INVALID` ("domain is not running") and `VIR_ERR_NO_DOMAIN` are not
    /// errors here.
    public func destroy() throws {
        if virDomainDestroy(handle) == 0 { return }
        let error = LibvirtError.last("virDomainDestroy")
        if error.isNoDomain { return }
        if error.isOperationInvalid, (try? isActive()) == false { return }
        throw error
    }

    /// Whether the domain is running or paused (`virDomainIsActive`); false for a transient
    /// domain that no longer exists (`VIR_ERR_NO_DOMAIN`).
    public func isActive() throws -> Bool {
        let result = virDomainIsActive(handle)
        if result < 0 {
            let error = LibvirtError.last("virDomainIsActive")
            if error.isNoDomain { return false }
            throw error
        }
        return result == 1
    }

    /// The domain's state and its reason (`virDomainGetState`).
    public func state() throws -> DomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check("virDomainGetState") { virDomainGetState(handle, &state, &reason, 0) }
        return DomainState(kind: .init(rawValue: state), reason: reason)
    }

    /// The domain's live XML description (`virDomainGetXMLDesc`), e.g. to find the pty path
    /// libvirt chose for a console.
    public func xmlDescription() throws -> String {
        let xml = try checkPointer("virDomainGetXMLDesc") { virDomainGetXMLDesc(handle, 0) }
        return takeString(xml) ?? ""
    }

    /// Opens the domain's console as a live byte stream (`virStreamNew` with
    /// `VIR_STREAM_NONBLOCK`, then `virDomainOpenConsole` with `VIR_DOMAIN_CONSOLE_FORCE`, which
    /// takes the console over from any other client).
    ///
    /// - Parameter devName: the console's alias (e.g. `"serial0"`), or nil for the first console.
    public func openConsole(devName: String? = nil) throws -> ConsoleStream {
        guard let connection = virDomainGetConnect(handle) else {
            throw LibvirtError.last("virDomainGetConnect")
        }
        let stream = try checkPointer("virStreamNew") {
            virStreamNew(connection, VIR_STREAM_NONBLOCK.rawValue)
        }
        let flags = VIR_DOMAIN_CONSOLE_FORCE.rawValue
        if virDomainOpenConsole(handle, devName, stream, flags) < 0 {
            let error = LibvirtError.last("virDomainOpenConsole")
            virStreamFree(stream)
            throw error
        }
        return ConsoleStream(taking: stream, domainName: name)
    }
}
