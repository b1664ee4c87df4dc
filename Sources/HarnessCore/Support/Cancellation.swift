import Foundation

/// A flag the CLI raises on SIGINT/SIGTERM; long waits poll it so a run stops promptly and cleans up.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var handlers: [() -> Void] = []

    public init() {}

    public var isCancelled: Bool { lock.withLock { cancelled } }

    /// Marks the run cancelled and runs every registered handler once.
    public func cancel() {
        let toRun: [() -> Void] = lock.withLock {
            guard !cancelled else { return [] }
            cancelled = true
            defer { handlers.removeAll() }
            return handlers
        }
        toRun.forEach { $0() }
    }

    /// Runs `handler` when the run is cancelled (at once if it already is).
    public func onCancel(_ handler: @escaping () -> Void) {
        let runNow: Bool = lock.withLock {
            if cancelled { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}
