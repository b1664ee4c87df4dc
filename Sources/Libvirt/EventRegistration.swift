import Foundation

/// A registered lifecycle handler (`Connection.onDomainLifecycle`); `cancel()` removes it.
///
/// It does not keep the connection alive; dropping it does not cancel the handler
/// (`Connection.close()` cancels every handler still registered).
public final class EventRegistration: @unchecked Sendable {
    /// libvirt's callback id, as `virConnectDomainEventRegisterAny` returned it.
    public let callbackID: Int32

    private weak var connection: Connection?
    private let lock = NSLock()
    private var cancelled = false

    init(connection: Connection, callbackID: Int32) {
        self.connection = connection
        self.callbackID = callbackID
    }

    /// Deregisters the handler (`virConnectDomainEventDeregisterAny`). Idempotent; a no-op once
    /// the connection is closed or gone.
    ///
    /// An event already being dispatched may still reach the handler once after this returns
    /// on another thread; libvirt releases the handler only when that dispatch is over.
    public func cancel() {
        lock.lock()
        let first = !cancelled
        cancelled = true
        lock.unlock()
        if first {
            connection?.deregisterLifecycleCallback(callbackID)
        }
    }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}
