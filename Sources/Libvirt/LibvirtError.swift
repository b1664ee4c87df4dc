import CLibvirt
import Foundation

/// A failed libvirt call: which function failed and what libvirt said about it.
///
/// Built from `virCopyLastError` on the thread that made the failing call, right after it,
/// followed by `virResetLastError`, the way libvirt-go-module does it. libvirt's last error is
/// thread-local, so it must be captured before anything else on that thread calls into libvirt.
public struct LibvirtError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The libvirt function that failed, e.g. `"virDomainCreateXML"`.
    public let operation: String
    /// libvirt's error number (`virErrorNumber`, e.g. 42 for `VIR_ERR_NO_DOMAIN`).
    public let code: Int32
    /// The part of libvirt that raised the error (`virErrorDomain`, e.g. 10 for `VIR_FROM_QEMU`).
    public let domain: Int32
    /// libvirt's own human-readable message (`virError.message`).
    public let message: String

    /// Makes an error by hand; the wrapper itself builds them from `virCopyLastError`.
    public init(operation: String, code: Int32, domain: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.domain = domain
        self.message = message
    }

    /// `"virDomainCreateXML failed: <libvirt's message> (code 27, domain 20)"`.
    public var description: String {
        "\(operation) failed: \(message) (code \(code), domain \(domain))"
    }

    /// True for `VIR_ERR_NO_DOMAIN`: the domain does not exist (any more).
    public var isNoDomain: Bool { code == Int32(VIR_ERR_NO_DOMAIN.rawValue) }

    /// True for `VIR_ERR_OPERATION_INVALID`, e.g. "domain is not running".
    public var isOperationInvalid: Bool { code == Int32(VIR_ERR_OPERATION_INVALID.rawValue) }

    /// Captures libvirt's last error on this thread (`virCopyLastError`) and resets it
    /// (`virResetLastError`). Call it immediately after the failing libvirt call.
    static func last(_ operation: String) -> LibvirtError {
        var raw = virError()
        let copied = virCopyLastError(&raw)
        defer {
            virResetError(&raw)
            virResetLastError()
        }
        guard copied > 0 else {
            return LibvirtError(
                operation: operation, code: 0, domain: 0,
                message: "libvirt reported a failure but set no error")
        }
        let message = raw.message.map { String(cString: $0) } ?? "no message"
        return LibvirtError(operation: operation, code: raw.code, domain: raw.domain, message: message)
    }

    /// An error that the wrapper raises itself (no libvirt call failed), e.g. use after close.
    static func wrapper(_ operation: String, _ message: String) -> LibvirtError {
        LibvirtError(operation: operation, code: Int32(VIR_ERR_INTERNAL_ERROR.rawValue), domain: 0, message: message)
    }
}

/// One-time process-wide libvirt set-up: `virInitialize` and a no-op `virSetErrorFunc`.
enum LibvirtLibrary {
    private static let once: Void = {
        _ = virInitialize()
        // libvirt's default error handler prints every error to stderr; errors are
        // reported through LibvirtError instead.
        virSetErrorFunc(nil, { _, _ in })
    }()

    /// Idempotent and thread-safe (Swift runs a static initialiser exactly once).
    static func initialize() {
        _ = once
    }
}

// MARK: - Small helpers shared by the wrappers

/// Runs a libvirt call that returns a negative number on failure and throws libvirt's error.
@discardableResult
func check(_ operation: String, _ call: () -> Int32) throws -> Int32 {
    let result = call()
    if result < 0 {
        throw LibvirtError.last(operation)
    }
    return result
}

/// Runs a libvirt call that returns NULL on failure and throws libvirt's error.
func checkPointer<P>(_ operation: String, _ call: () -> P?) throws -> P {
    guard let pointer = call() else {
        throw LibvirtError.last(operation)
    }
    return pointer
}

/// Converts a string that libvirt allocated for the caller and frees it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// Formats libvirt's packed version number (major * 1_000_000 + minor * 1_000 + release).
func formatVersion(_ packed: UInt) -> String {
    "\(packed / 1_000_000).\((packed / 1_000) % 1_000).\(packed % 1_000)"
}
