import Foundation
import Libvirt
import Logging

/// `harness run`: plans the targets, carries each through the pipeline (up to `jobs` at once),
/// writes `report.json` after every target so an interrupted run keeps what it had, and decides
/// the exit status.
public final class HarnessRun: @unchecked Sendable {
    public let options: RunOptions
    let layout: ProjectLayout
    let cancellation: Cancellation
    let logger: Logger

    private let lock = NSLock()
    private var report: RunReport

    public init(options: RunOptions, layout: ProjectLayout, cancellation: Cancellation, logger: Logger) {
        self.options = options
        self.layout = layout
        self.cancellation = cancellation
        self.logger = logger
        self.report = RunReport(
            run: RunMetadata(harnessVersion: HarnessVersion.string, commandLine: Redaction.commandLine(options.commandLine),
                             host: HostFacts.measure(), libvirtURI: "", startedAt: Date(), finishedAt: nil,
                             interruption: nil),
            targets: [])
    }

    public var reportFile: URL { options.outDirectory.appendingPathComponent("report.json") }

    /// Runs every target; returns the report and the exit status it implies.
    /// Throws only for what stops the run before any target starts (bad input, unwritable --out).
    public func execute(
        stageStarted: @escaping (String, StageName) -> Void = { _, _ in },
        progress: @escaping (TargetReport) -> Void = { _ in }
    ) throws -> (RunReport, ExitStatus) {
        try options.checkPaths()
        let planStart = Date()
        let catalog = try ArchCatalog(layout: layout)
        let targets = try options.selection.apply(to: TargetPlanner.plan(
            arches: options.arches, variants: options.variants, suites: options.suites, kernel: options.kernel, catalog: catalog,
            eduDMABits: options.eduDMABits)).map { target -> Target in
                var clocked = target
                clocked.clock = options.clock ?? target.profile.defaultClock(variant: target.variant)
                return clocked
            }
        let planSeconds = Date().timeIntervalSince(planStart)
        try Self.prepareOutput(options.outDirectory)
        report.run.libvirtURI = options.hosts.first.map { Redaction.uri($0.uri) } ?? HostConnection.embeddedURI(
            root: options.cacheRoot.appendingPathComponent("libvirt"))
        report.run.host.qemuVersion = Self.qemuVersion(targets.first?.profile.qemuBinary)
        try writeReport()

        let hosts: HostPool
        do {
            hosts = options.hosts.isEmpty
                ? HostPool.local(jobs: options.jobs, cacheRoot: options.cacheRoot, logger: logger)
                : try HostPool.connect(options.hosts, logger: logger)
        } catch let unreachable as HostPool.Unreachable {
            lock.withLock {
                report.run.hosts = unreachable.records
                report.run.interruption = unreachable.error.message
                report.run.finishedAt = Date()
            }
            try writeReport()
            throw unreachable.error
        }
        lock.withLock { report.run.hosts = options.hosts.isEmpty ? nil : hosts.records() }
        let pipeline = TargetPipeline(options: options, layout: layout, catalog: catalog, hosts: hosts,
                                      cancellation: cancellation, logger: logger, stageStarted: stageStarted)
        // Targets are provisioned and built ahead on one queue (downloads and compiles overlap the
        // boots), and booted from another: whenever a host slot is free, the first prepared target
        // in the longest-first order (TargetSchedule) that the host can run takes it, so no slot
        // idles while a target it could run waits.
        let preparing = OperationQueue()
        preparing.maxConcurrentOperationCount = max(1, options.jobs)
        let schedule = TargetSchedule.load(cacheRoot: options.cacheRoot)
        let prepared = PreparedTargets()
        let ordered = schedule.ordered(targets)
        for target in ordered {
            preparing.addOperation {
                prepared.put(pipeline.prepare(target, planSeconds: planSeconds))
                hosts.notify()
            }
        }
        let boots = DispatchGroup()
        var waiting = ordered.map(\.id)
        hosts.dispatch { leaseLocked, whyNoHostLocked in
            for (position, id) in waiting.enumerated() {
                guard let flight = prepared.peek(id) else { continue }
                let lease: HostPool.Lease?
                if flight.artifacts == nil || whyNoHostLocked(flight.target) != nil {
                    lease = nil
                } else if let free = leaseLocked(flight.target) {
                    lease = free
                } else {
                    continue
                }
                waiting.remove(at: position)
                boots.enter()
                Thread.detachNewThread {
                    let result = pipeline.finish(prepared.take(id), lease: lease)
                    self.lock.withLock { self.report.targets.append(result) }
                    try? self.writeReport()
                    progress(result)
                    boots.leave()
                }
                return .progress
            }
            return waiting.isEmpty ? .done : .wait
        }
        boots.wait()
        lock.withLock { schedule.recording(report.targets) }.save(cacheRoot: options.cacheRoot)
        if options.volumePolicy == .remove {
            for host in hosts.hosts {
                let kept = host.stager?.removeStaged() ?? []
                if !kept.isEmpty { logger.warning("\(host.displayURI): could not remove the volumes \(kept.joined(separator: ", "))") }
            }
        }

        lock.withLock {
            report.targets.sort { $0.id < $1.id }
            report.run.finishedAt = Date()
            if cancellation.isCancelled { report.run.interruption = "interrupted by the user (SIGINT/SIGTERM)" }
            if let local = hosts.hosts.first?.openedConnection {
                report.run.libvirtURI = Redaction.uri(local.uri)
                report.run.host.libvirtVersion = try? local.libvirt.libvirtVersion()
            }
            if !options.hosts.isEmpty { report.run.hosts = hosts.records() }
        }
        hosts.hosts.forEach { $0.openedConnection?.close() }
        var status = Self.exitStatus(for: report, cancelled: cancellation.isCancelled)
        if let waivers = options.waivers {
            lock.withLock { report = Waivers.apply(waivers.entries, file: waivers.file, to: report) }
            status = Self.waivedExitStatus(status, report: report)
        }
        try writeReport()
        return (report, status)
    }

    /// report.json as every writer of it encodes it (`RunReport.encodedJSON`).
    private func writeReport() throws {
        let data: Data = try lock.withLock { try report.encodedJSON() }
        do {
            try data.write(to: reportFile, options: .atomic)
        } catch {
            let why = DiskSpace.isExhausted(at: reportFile.deletingLastPathComponent()) ? "no space left on its file system" : "\(error.localizedDescription)"
            throw HarnessError.infrastructure("cannot write \(reportFile.path): \(why); free space there or choose another --out")
        }
    }

    /// Interrupted beats everything; then bad input, host trouble, and test failures.
    static func exitStatus(for report: RunReport, cancelled: Bool) -> ExitStatus {
        if cancelled || report.targets.contains(where: { $0.status == .interrupted }) { return .interrupted }
        let errors = report.targets.compactMap(\.errorKind)
        if errors.contains(.usage) { return .usage }
        if errors.contains(.infrastructure) { return .infrastructure }
        if report.targets.contains(where: { ![.passed, .unsupported].contains($0.status) }) { return .failures }
        let deFacto = report.targets.contains { target in
            target.status == .passed && (target.contractFindings ?? []).contains { !$0.tier.failsTarget }
        }
        return deFacto ? .deFactoFindings : .passed
    }

    /// A run whose every failure (or de-facto finding) a waiver expects exits 0; crashes, hangs and
    /// host errors stay what they are.
    static func waivedExitStatus(_ status: ExitStatus, report: RunReport) -> ExitStatus {
        guard status == .failures || status == .deFactoFindings else { return status }
        let allExpected = report.targets.allSatisfy { [.passed, .unsupported].contains(report.effectiveStatus(of: $0)) }
        if status == .failures { return allExpected ? .passed : status }
        let waivedFindings = Set(report.waivers?.applied.filter { $0.kind == .finding }.map { "\($0.target)/\($0.subject)" } ?? [])
        let unwaived = report.targets.contains { target in
            (target.contractFindings ?? []).contains { !$0.tier.failsTarget && !waivedFindings.contains("\(target.id)/\($0.id)") }
        }
        return unwaived ? status : .passed
    }

    static func prepareOutput(_ folder: URL) throws {
        let probe = folder.appendingPathComponent(".write-test-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw HarnessError.usage("cannot write to --out \(folder.path): choose a writable folder")
        }
    }

    static func qemuVersion(_ binary: String?) -> String? {
        guard let binary, let outcome = try? Subprocess.run(binary, ["--version"]), outcome.succeeded else { return nil }
        return outcome.standardOutput.split(separator: "\n").first.map(String.init)
    }
}

/// Targets between their two halves, handed from the queue that prepares them to the one that
/// boots them.
private final class PreparedTargets: @unchecked Sendable {
    private let lock = NSLock()
    private var byID: [String: TargetPipeline.InFlight] = [:]

    func put(_ flight: TargetPipeline.InFlight) { lock.withLock { byID[flight.target.id] = flight } }

    func peek(_ id: String) -> TargetPipeline.InFlight? { lock.withLock { byID[id] } }

    /// Called only once the target's prepare put it here (peek saw it).
    func take(_ id: String) -> TargetPipeline.InFlight { lock.withLock { byID.removeValue(forKey: id)! } }
}
