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
    private var connection: HostConnection?
    private var report: RunReport

    public init(options: RunOptions, layout: ProjectLayout, cancellation: Cancellation, logger: Logger) {
        self.options = options
        self.layout = layout
        self.cancellation = cancellation
        self.logger = logger
        self.report = RunReport(
            run: RunMetadata(harnessVersion: HarnessVersion.string, commandLine: options.commandLine,
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
        report.run.libvirtURI = options.connectURI ?? HostConnection.embeddedURI(
            root: options.cacheRoot.appendingPathComponent("libvirt"))
        report.run.host.qemuVersion = Self.qemuVersion(targets.first?.profile.qemuBinary)
        try writeReport()

        let pipeline = TargetPipeline(options: options, layout: layout, catalog: catalog, connection: { try self.sharedConnection() },
                                      cancellation: cancellation, logger: logger, stageStarted: stageStarted)
        // Two queues, so that no core idles while a target waits: targets are provisioned and
        // built ahead (downloads and compiles overlap the boots), and a core boots whichever
        // prepared target comes first in the longest-first order (TargetSchedule). An
        // OperationQueue starts ready operations of equal priority in the order they were added.
        let preparing = OperationQueue(), booting = OperationQueue()
        preparing.maxConcurrentOperationCount = max(1, options.jobs)
        booting.maxConcurrentOperationCount = max(1, options.jobs)
        let schedule = TargetSchedule.load(cacheRoot: options.cacheRoot)
        let prepared = PreparedTargets()
        for target in schedule.ordered(targets) {
            let prepare = BlockOperation { prepared.put(pipeline.prepare(target, planSeconds: planSeconds)) }
            let boot = BlockOperation {
                let result = pipeline.finish(prepared.take(target.id))
                self.lock.withLock { self.report.targets.append(result) }
                try? self.writeReport()
                progress(result)
            }
            boot.addDependency(prepare)
            preparing.addOperation(prepare)
            booting.addOperation(boot)
        }
        booting.waitUntilAllOperationsAreFinished()
        lock.withLock { schedule.recording(report.targets) }.save(cacheRoot: options.cacheRoot)

        lock.withLock {
            report.targets.sort { $0.id < $1.id }
            report.run.finishedAt = Date()
            if cancellation.isCancelled { report.run.interruption = "interrupted by the user (SIGINT/SIGTERM)" }
            if let version = try? connection?.libvirt.libvirtVersion() { report.run.host.libvirtVersion = version }
        }
        lock.withLock { connection?.close() }
        var status = Self.exitStatus(for: report, cancelled: cancellation.isCancelled)
        if let waivers = options.waivers {
            lock.withLock { report = Waivers.apply(waivers.entries, file: waivers.file, to: report) }
            status = Self.waivedExitStatus(status, report: report)
        }
        try writeReport()
        return (report, status)
    }

    /// One connection for the whole run, opened by the first target that boots.
    private func sharedConnection() throws -> HostConnection {
        try lock.withLock {
            if let connection { return connection }
            let opened = try HostConnection.open(connectURI: options.connectURI, cacheRoot: options.cacheRoot, logger: logger)
            connection = opened
            report.run.libvirtURI = opened.uri
            report.run.host.libvirtVersion = try? opened.libvirt.libvirtVersion()
            return opened
        }
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

    /// Called only after the target's prepare operation finished (an operation dependency).
    func take(_ id: String) -> TargetPipeline.InFlight { lock.withLock { byID.removeValue(forKey: id)! } }
}
