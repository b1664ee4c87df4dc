import CLibvirt
import Foundation

/// libvirt's default event loop, run on a dedicated thread for the life of the process.
///
/// Domain lifecycle events, console streams and the embedded QEMU driver (`qemu:///embed`) all
/// need an event loop implementation registered before a connection is opened; without one
/// the embedded driver refuses to open ("An event loop implementation must be registered").
/// `Connection.init` starts it, so callers rarely need to.
public enum EventLoop {
    /// Registers libvirt's default event loop implementation (`virEventRegisterDefaultImpl`)
    /// and starts a thread that calls `virEventRunDefaultImpl` forever.
    ///
    /// Idempotent and thread-safe: the first call does the work, later calls return at once
    /// (or rethrow the first call's failure). The thread is never stopped: libvirt has no way
    /// to unregister an event implementation, and callbacks may still be pending on it.
    public static func startDefault() throws {
        try state.start()
    }

    /// Whether `startDefault()` has succeeded in this process.
    public static var isRunning: Bool {
        state.isRunning
    }

    /// The name of the event-loop thread; handlers for lifecycle events and console data run on it.
    public static let threadName = "libvirt-event-loop"

    private static let state = EventLoopState()
}

/// The mutable part of `EventLoop`, behind a lock.
private final class EventLoopState: @unchecked Sendable {
    private let lock = NSLock()
    private var started = false
    private var failure: LibvirtError?

    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return started
    }

    func start() throws {
        lock.lock()
        defer { lock.unlock() }
        if started { return }
        if let failure { throw failure }

        LibvirtLibrary.initialize()
        if virEventRegisterDefaultImpl() < 0 {
            let error = LibvirtError.last("virEventRegisterDefaultImpl")
            failure = error
            throw error
        }
        let thread = Thread {
            while true {
                // Errors here are transient (e.g. an interrupted poll); libvirt has already
                // logged nothing thanks to the no-op error function, so just clear and go on.
                if virEventRunDefaultImpl() < 0 {
                    virResetLastError()
                }
            }
        }
        thread.name = EventLoop.threadName
        thread.start()
        started = true
    }
}
