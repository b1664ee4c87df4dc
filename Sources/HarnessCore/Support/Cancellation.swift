import Foundation

/// A flag the CLI raises on SIGINT/SIGTERM. Long waits poll it, so a run stops promptly and
/// cleans up on its own threads (libvirt must not be called from the signal's thread).
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public var isCancelled: Bool { lock.withLock { cancelled } }

    /// Marks the run cancelled, and stops the host tools it is waiting for (make, apt-get): their
    /// result no longer matters, and a Ctrl-C sent to this process alone must not wait for them.
    public func cancel() {
        lock.withLock { cancelled = true }
        Subprocess.terminateRunningChildren()
    }
}
