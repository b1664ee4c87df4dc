import Foundation
import Libvirt
import Logging

/// The boot stage's result for one target.
public struct BootOutcome: Sendable {
    public var ending: BootEnding
    /// Why, in one line (the lifecycle event, the timeout, ...).
    public var detail: String
    /// Seconds from resuming the guest to its end.
    public var guestSeconds: Double
    /// When the console showed the guest's milestones, in seconds after the resume.
    public var timeline: BootTimeline? = nil
    public var consoleLog: URL
    /// QEMU's own log, copied beside the console when the driver is local (embedded).
    public var qemuLog: URL?
    /// Evidence left on a remote host, by name, with the reason (LogPaths.notKept).
    public var notKept: [String: String] = [:]
    public var domainXML: URL
}

/// Boots one target as a transient libvirt domain, streams its console to a file, and waits for
/// power-off, a panic, the timeout or cancellation. The domain is destroyed on every path.
public struct GuestRunner: Sendable {
    public var connection: HostConnection
    var logger: Logger

    /// How long to keep reading after a panic line, so the trace reaches the log.
    static let panicGrace: TimeInterval = 3
    /// How long a guest may take from the suite's end to power-off. An Oops in the driver's probe
    /// leaves the device lock held, and power-off then waits for it forever.
    static let powerOffGrace: TimeInterval = 10

    public init(connection: HostConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Boots `target`; `hostEmulator` is the emulator a host's capabilities named, nil to find
    /// the profile's on this machine's PATH. Throws HostLost when the connection dies under it.
    public func boot(
        target: Target, spec: BootSpec, hostEmulator: String? = nil, outDirectory: URL, timeout: TimeInterval,
        cancellation: Cancellation
    ) throws -> BootOutcome {
        guard let emulator = hostEmulator ?? Subprocess.resolve(target.profile.qemuBinary) else {
            throw HarnessError.infrastructure(
                "\(target.profile.qemuBinary) not found: apt-get install \(target.profile.qemuPackage)")
        }
        let consoleLog = outDirectory.appendingPathComponent("console.log")
        var spec = spec
        // A local driver has QEMU write the console file itself, complete and live, and the boot
        // follows that file; only a remote driver needs libvirt's console stream.
        let followsFile = connection.embeddedRoot != nil
        if followsFile { spec.consoleLogFile = consoleLog.path }
        let xml = DomainXML.make(target: target, boot: spec, emulator: emulator)
        let domainXML = outDirectory.appendingPathComponent("domain.xml")
        try xml.write(to: domainXML, atomically: true, encoding: .utf8)
        let recorder = try ConsoleRecorder(file: followsFile ? nil : consoleLog)
        defer { recorder.close() }

        let stopped = StopSignal()
        connection.watchStop(of: spec.domainName, with: stopped)
        defer { connection.unwatchStop(of: spec.domainName) }

        let domain: Domain
        do {
            // A remote domain dies with this connection, so a harness that dies leaves none behind.
            domain = try connection.libvirt.createTransientDomain(xml: xml, startPaused: true, autoDestroy: !followsFile)
        } catch let error as LibvirtError {
            if let lost = connection.lostOrDead { throw HostLost(reason: lost) }
            throw HarnessError.infrastructure("libvirt could not start \(target.id): \(error.message)")
        }
        // libvirt 9.0 deadlocks when a console stream is aborted while the domain's character
        // devices are being freed, so the stream (if any) is always closed before the destroy,
        // on the boot's own thread; cancellation is polled, never acted on from the signal thread.
        var console: ConsoleStream?
        let consoleEnded = StopSignal()
        defer {
            console?.close()
            try? domain.destroy()
            connection.collectQEMULog(domainName: spec.domainName, into: outDirectory)
        }
        if !followsFile {
            console = try domain.openConsole()
            console?.startReading(onData: { recorder.append($0) }, onEnd: { error in
                consoleEnded.raise(error.map { "\($0)" } ?? "end of stream")
            })
        }
        let follower = followsFile ? FileFollower(file: consoleLog) : nil

        let start = Date()
        try domain.resume()
        let stop = wait(until: start.addingTimeInterval(timeout), stopped: stopped, recorder: recorder,
                        follower: follower, cancellation: cancellation)
        let seconds = Date().timeIntervalSince(start)
        if let console {
            // The stop event can overtake the stream's last bytes: let it drain before judging.
            if case .domainStopped = stop { _ = consoleEnded.wait(until: Date().addingTimeInterval(2)) }
            console.close()
        }
        let destroyStart = Date()
        try? domain.destroy()
        logger.debug("\(target.id): destroy returned in \(String(format: "%.2f", Date().timeIntervalSince(destroyStart))) s")
        follower?.readNewBytes(into: recorder.append)
        if !cancellation.isCancelled, let lost = connection.lostOrDead { throw HostLost(reason: lost) }
        let (ending, detail) = judge(stop, recorder: recorder, cancelled: cancellation.isCancelled)
        connection.collectQEMULog(domainName: spec.domainName, into: outDirectory)
        if let end = recorder.suiteEndTime {
            logger.debug("\(target.id): suite end seen \(String(format: "%.2f", end.timeIntervalSince(start))) s after resume")
        }
        logger.debug("\(target.id): \(ending.rawValue) after \(String(format: "%.1f", seconds)) s (\(detail))")
        var outcome = BootOutcome(
            ending: ending, detail: detail, guestSeconds: seconds, consoleLog: consoleLog,
            qemuLog: connection.qemuLogCopy(in: outDirectory), domainXML: domainXML)
        outcome.timeline = recorder.timeline(since: start)
        if !connection.isEmbedded {
            outcome.notKept["qemu"] = "QEMU's log stays on \(Redaction.uri(connection.uri)) (/var/log/libvirt/qemu/\(spec.domainName).log): libvirt has no API that reads it"
        }
        return outcome
    }

    /// Why the wait ended.
    private enum Stop {
        case domainStopped(String), panicGraceOver, noPowerOff, deadline, cancelled
    }

    private func wait(
        until deadline: Date, stopped: StopSignal, recorder: ConsoleRecorder, follower: FileFollower?,
        cancellation: Cancellation
    ) -> Stop {
        while true {
            follower?.readNewBytes(chunks: 16, into: recorder.append)
            if let reason = stopped.wait(until: Date().addingTimeInterval(0.05)) { return .domainStopped(reason) }
            if cancellation.isCancelled { return .cancelled }
            if let panic = recorder.panicTime, Date().timeIntervalSince(panic) > Self.panicGrace { return .panicGraceOver }
            if let end = recorder.suiteEndTime, Date().timeIntervalSince(end) > Self.powerOffGrace { return .noPowerOff }
            if Date() >= deadline { return .deadline }
        }
    }

    private func judge(_ stop: Stop, recorder: ConsoleRecorder, cancelled: Bool) -> (BootEnding, String) {
        if cancelled { return (.interrupted, "interrupted by the user") }
        switch stop {
        case .cancelled:
            return (.interrupted, "interrupted by the user")
        case .panicGraceOver:
            return (.panicked, "kernel panic; domain destroyed")
        case .noPowerOff:
            return (.timedOut, "no power-off within \(Int(Self.powerOffGrace)) s of the suite's end; domain destroyed")
        case .deadline:
            if recorder.panicTime != nil { return (.panicked, "kernel panic; domain destroyed") }
            return (.timedOut, "no power-off within the timeout (\(recorder.bytesWritten) console bytes)")
        case .domainStopped(let reason):
            if recorder.panicTime != nil { return (.panicked, "kernel panic; domain \(reason)") }
            if recorder.suiteEnded { return (.poweredOff, "guest powered off (domain \(reason))") }
            return (.stoppedUnexpectedly, "domain stopped (\(reason)) before the suite ended")
        }
    }
}

/// The connection a boot ran on died under it (the daemon, or the network to it): the boot has
/// no verdict, and its target may move to another host.
public struct HostLost: Error, Sendable {
    public var reason: String
}

extension HostConnection {
    /// Why the connection is gone, if it is: lost (its close callback ran) or no longer alive.
    var lostOrDead: String? {
        if let lost { return lost }
        if !isEmbedded, !libvirt.isAlive { return "the connection to \(Redaction.uri(uri)) is no longer alive" }
        return nil
    }
}

/// A one-shot signal with a reason, raised from any thread (libvirt's event loop, the console reader).
final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var reason: String?

    func raise(_ why: String) {
        condition.lock()
        if reason == nil { reason = why }
        condition.broadcast()
        condition.unlock()
    }

    /// The reason once raised, or nil if `deadline` passed first.
    func wait(until deadline: Date) -> String? {
        condition.lock()
        defer { condition.unlock() }
        while reason == nil {
            if !condition.wait(until: deadline) { break }
        }
        return reason
    }
}

/// Reads what has been appended to a file since the last call (QEMU's console log, as it grows).
final class FileFollower {
    private let file: URL
    private var handle: FileHandle?
    /// Read at most this much at once: a guest can print faster than it is followed.
    static let chunkBytes = 1 << 20

    init(file: URL) { self.file = file }

    /// Hands what was appended since the last call to `consume`, a chunk at a time: up to `chunks`
    /// chunks, so a guest that prints without pause cannot keep the caller from its other checks.
    func readNewBytes(chunks: Int = .max, into consume: ([UInt8]) -> Void) {
        if handle == nil { handle = FileHandle(forReadingAtPath: file.path) }
        guard let handle else { return }
        for _ in 0..<chunks {
            guard let data = try? handle.read(upToCount: Self.chunkBytes), !data.isEmpty else { return }
            consume([UInt8](data))
        }
    }

    deinit { try? handle?.close() }
}
