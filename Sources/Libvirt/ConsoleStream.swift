import CLibvirt
import Foundation

/// A domain's console as a live byte stream (`virStreamPtr` from `Domain.openConsole`).
///
/// Reading is event-driven: the stream is non-blocking (`VIR_STREAM_NONBLOCK`) and a
/// `virStreamEventAddCallback` watch on libvirt's event loop drains it with `virStreamRecv`
/// whenever the console is readable. A blocking reader thread is not used because libvirt's
/// fd stream holds the stream's lock across a blocking `read()` on the pty: `virStreamAbort`
/// from another thread would then wait until the guest prints something or dies, so a quiet
/// console could never be closed.
///
/// Thread-safe; `close()` may be called from any thread, including from `onData`.
public final class ConsoleStream: @unchecked Sendable {
    /// The name of the domain whose console this is.
    public let domainName: String

    private let reader: ConsoleReader

    /// Takes ownership of one reference on an open console stream.
    init(taking stream: OpaquePointer, domainName: String) {
        self.domainName = domainName
        reader = ConsoleReader(stream: stream)
    }

    deinit {
        reader.close()
    }

    /// Starts delivering console output: `onData` with each chunk as it arrives, then `onEnd`
    /// exactly once, when the stream ends (nil: end of stream, the guest's emulator went away,
    /// or `close()`) or fails (the `virStreamRecv` error).
    ///
    /// Both run on the event-loop thread (`EventLoop.threadName`), never concurrently, and
    /// `onData` never after `onEnd`. Registration uses `virStreamEventAddCallback`; if that
    /// fails, `onEnd` gets its error at once. Call it once per stream: a second call is a
    /// programming error and traps. After `close()`, `onEnd(nil)` is called at once.
    public func startReading(
        onData: @escaping ([UInt8]) -> Void,
        onEnd: @escaping (LibvirtError?) -> Void
    ) {
        reader.start(onData: onData, onEnd: onEnd)
    }

    /// Closes the console: removes the read watch (`virStreamEventRemoveCallback`), aborts the
    /// stream (`virStreamAbort`) and releases it (`virStreamFree`). If reading had started and
    /// not yet ended, `onEnd(nil)` is called.
    ///
    /// Idempotent and safe while output is being delivered: it waits only for a chunk already
    /// being handed to `onData`, never for the guest.
    public func close() {
        reader.close()
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool {
        reader.isClosed
    }
}

/// The state shared between `ConsoleStream` and libvirt's stream callback.
///
/// One recursive lock serialises the callback, `start` and `close`, so the stream is never
/// aborted or freed while `virStreamRecv` runs on it, and `onData`/`onEnd` may call `close()`.
private final class ConsoleReader: @unchecked Sendable {
    private static let chunkSize = 64 * 1024

    private let lock = NSRecursiveLock()
    private var stream: OpaquePointer?
    private var started = false
    private var ended = false
    private var watching = false
    private var onData: (([UInt8]) -> Void)?
    private var onEnd: ((LibvirtError?) -> Void)?

    init(stream: OpaquePointer) {
        self.stream = stream
    }

    var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stream == nil
    }

    func start(onData: @escaping ([UInt8]) -> Void, onEnd: @escaping (LibvirtError?) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        precondition(!started, "ConsoleStream.startReading called twice")
        started = true
        self.onData = onData
        self.onEnd = onEnd
        guard let stream else {
            finish(nil)
            return
        }

        let box = Unmanaged.passRetained(self)
        let events = Int32(
            VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue
                | VIR_STREAM_EVENT_HANGUP.rawValue)
        if virStreamEventAddCallback(stream, events, consoleTrampoline, box.toOpaque(), releaseConsoleReader) < 0 {
            let error = LibvirtError.last("virStreamEventAddCallback")
            box.release()  // libvirt keeps no reference when registration fails
            finish(error)
            return
        }
        watching = true
    }

    /// Called by libvirt on the event-loop thread with `virStreamEventType` bits.
    func streamEvent(_ events: Int32) {
        lock.lock()
        defer { lock.unlock() }
        guard !ended, let stream else { return }

        let hangup = events & Int32(VIR_STREAM_EVENT_HANGUP.rawValue | VIR_STREAM_EVENT_ERROR.rawValue) != 0
        var buffer = [CChar](repeating: 0, count: Self.chunkSize)
        while !ended {
            let count = buffer.withUnsafeMutableBufferPointer { chunk in
                virStreamRecv(stream, chunk.baseAddress, chunk.count)
            }
            if count > 0 {
                let bytes = buffer[0..<Int(count)].map { UInt8(bitPattern: $0) }
                onData?(bytes)
                continue
            }
            if count == -2 {
                // Nothing more to read now. After a hang-up nothing more will come.
                if hangup { finish(nil) }
                return
            }
            if count == 0 {
                finish(nil)
                return
            }
            let error = LibvirtError.last("virStreamRecv")
            // A pty whose other end (QEMU) closed reads as EIO after a hang-up: that is the
            // console's normal end, not a failure.
            finish(hangup ? nil : error)
            return
        }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard let closing = stream else { return }
        stopWatching()
        stream = nil
        if virStreamAbort(closing) < 0 {
            virResetLastError()
        }
        virStreamFree(closing)
        if started && !ended {
            finish(nil)
        }
    }

    /// Ends delivery exactly once. Caller holds the lock.
    private func finish(_ error: LibvirtError?) {
        guard !ended else { return }
        ended = true
        stopWatching()
        let endHandler = onEnd
        onData = nil
        onEnd = nil
        endHandler?(error)
    }

    /// Removes the event watch; libvirt then calls `releaseConsoleReader` once no dispatch of
    /// it is running. Caller holds the lock.
    private func stopWatching() {
        guard watching, let stream else { return }
        watching = false
        if virStreamEventRemoveCallback(stream) < 0 {
            virResetLastError()
        }
    }
}

/// `virStreamEventCallback`: (stream, events, opaque).
private let consoleTrampoline: @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, events, opaque in
    guard let opaque else { return }
    Unmanaged<ConsoleReader>.fromOpaque(opaque).takeUnretainedValue().streamEvent(events)
}

/// `virFreeCallback` for the reader reference that the watch holds.
private let releaseConsoleReader: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    Unmanaged<ConsoleReader>.fromOpaque(opaque).release()
}
