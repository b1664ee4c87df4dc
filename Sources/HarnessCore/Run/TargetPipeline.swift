import Foundation
import Logging

/// Carries one target through provision, build, boot and collect. A stage that fails stops this
/// target only; everything gathered before it stays in the target's report.
struct TargetPipeline {
    var options: RunOptions
    var layout: ProjectLayout
    var catalog: ArchCatalog
    var connection: () throws -> HostConnection
    var cancellation: Cancellation
    var logger: Logger
    /// Told when a target enters a stage, for progress display.
    var stageStarted: (String, StageName) -> Void = { _, _ in }

    /// Words every boot gets: the console, no reboot loop after a panic, and no zeroing by the page
    /// allocator, so that the DMA layer's own zeroing is what the suite tests.
    static let baseKernelArguments = ["panic=-1", "init_on_alloc=0"]

    /// The config options a reader needs to interpret the DMA results on any arch; a profile adds
    /// its own (`kernelConfigKeys`). `unset` when absent.
    static let dmaConfigOptions = [
        "CONFIG_DMA_CMA", "CONFIG_CMA_SIZE_MBYTES", "CONFIG_CMA_ALIGNMENT", "CONFIG_INIT_ON_ALLOC_DEFAULT_ON",
        "CONFIG_IOMMU_DMA", "CONFIG_SWIOTLB", "CONFIG_DMA_API_DEBUG", "CONFIG_ZONE_DMA", "CONFIG_ZONE_DMA32",
        "CONFIG_DMA_NONCOHERENT_MMAP", "CONFIG_DMA_GLOBAL_POOL", "CONFIG_DMA_DIRECT_REMAP",
    ]

    static func dmaConfig(of image: GuestImage, profile: ArchProfile) -> [String: String]? {
        let values = image.kernelConfigValues()
        guard !values.isEmpty else { return nil }
        let keys = dmaConfigOptions + (profile.kernelConfigKeys ?? [])
        return Dictionary(keys.map { ($0, values[$0] ?? "unset") }, uniquingKeysWith: { first, _ in first })
    }

    func run(_ target: Target, planSeconds: Double) -> TargetReport {
        let folder = options.outDirectory.appendingPathComponent(target.id)
        var stages = [StageRecord(stage: .plan, status: .ok, seconds: planSeconds, detail: nil)]
        var report = TargetReport(
            id: target.id, arch: target.profile.name, variant: target.variant, machine: target.profile.machine,
            cpu: target.profile.cpu ?? "", kernel: nil, status: .error, failedStage: nil,
            note: target.profile.variants[target.variant]?.note, errorKind: nil, reason: nil, stages: [],
            boot: nil, ktapComplete: false, suites: [], attributes: [], findings: [],
            summary: TestCounts(tests: []), logs: LogPaths())
        if case .debian = target.kernel { report.suite = target.suite.name }
        report.clock = target.clock
        var verdicts: TargetVerdicts?
        // Every guest runs under TCG (DomainXML's domain type 'qemu'); the config is the image's.
        var verdictContext: VerdictContext {
            VerdictContext(kernelConfig: report.kernel?.config ?? [:], accelerator: "tcg",
                           kernelCauses: target.profile.kernelCauses ?? [:])
        }
        if let why = target.unsupportedReason {
            report.status = .unsupported
            report.reason = why
            report.stages = stages
            return report
        }
        do {
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try checkCancelled()

            stageStarted(target.id, .provision)
            let image: GuestImage = try timedStage(.provision, into: &stages) {
                let provisioner = ImageProvisioner(cacheRoot: options.cacheRoot, layout: layout, logger: logger)
                let (debian, cached) = try provisioner.provision(arch: target.profile.name, suite: target.suite)
                switch target.kernel {
                case .debian:
                    return (debian, cached ? "cached" : "fetched")
                case .user(let kernelFile, let kbuild):
                    return (try UserKernel.image(kernelFile: kernelFile, kbuildDirectory: kbuild,
                                                 profile: target.profile, busyboxFrom: debian), "user kernel")
                }
            }
            let kernelArguments = ["console=\(target.profile.consoleDevice)"] + Self.baseKernelArguments
                + target.profile.kernelArguments + (target.profile.variants[target.variant]?.kernelArguments ?? [])
                + options.extraKernelArguments
            report.kernel = KernelFacts(release: image.kernelRelease, image: image.kernelImage,
                                        provenance: image.provenance, moduleVermagic: nil,
                                        config: Self.dmaConfig(of: image, profile: target.profile), kernelArguments: kernelArguments)
            report.kernel?.version = image.upstreamVersion
            try checkCancelled()

            stageStarted(target.id, .build)
            let (module, initramfs): (BuiltModule, URL) = try timedStage(.build, into: &stages) {
                let kernelSuite: DebianSuite? = target.kernel == .debian ? target.suite : nil
                guard let recipe = catalog.recipes[target.profile.name] else {
                    throw HarnessError.usage("no image recipe for arch '\(target.profile.name)'")
                }
                let toolchain = try Toolchain.select(
                    for: image, profile: target.profile, recipe: recipe,
                    suite: kernelSuite, cacheRoot: options.cacheRoot, logger: logger,
                    progress: { line in FileHandle.standardError.write(Data("harness: \(line)\n".utf8)) })
                report.kernel?.toolchain = toolchain.facts
                let module = try ModuleBuilder(cacheRoot: options.cacheRoot, layout: layout, logger: logger)
                    .build(for: image, profile: target.profile, toolchain: toolchain)
                let helper = try HelperBuilder(cacheRoot: options.cacheRoot, layout: layout)
                    .build(profile: target.profile, toolchain: toolchain)
                let (initramfs, cached) = try InitramfsBuilder(cacheRoot: options.cacheRoot, layout: layout)
                    .build(module: module, helper: helper?.0, image: image, profile: target.profile,
                           moduleArguments: target.moduleArguments)
                let allCached = module.fromCache && cached && (helper?.fromCache ?? true)
                return ((module, initramfs), allCached ? "cached" : "built")
            }
            report.kernel?.moduleVermagic = module.vermagic
            if FileManager.default.fileExists(atPath: module.buildLog.path) {
                try? FileManager.default.copyItem(at: module.buildLog, to: folder.appendingPathComponent("module-build.log"))
                report.logs.moduleBuild = "\(target.id)/module-build.log"
            }
            try checkCancelled()

            stageStarted(target.id, .boot)
            let outcome: BootOutcome = try timedStage(.boot, into: &stages) {
                let host = try connection()
                let spec = BootSpec(domainName: host.domainName(for: target), kernelImage: image.kernelImage,
                                    initramfs: initramfs.path, kernelArguments: kernelArguments)
                let outcome = try GuestRunner(connection: host, logger: logger)
                    .boot(target: target, spec: spec, outDirectory: folder, timeout: options.timeout,
                          cancellation: cancellation)
                report.boot = BootFacts(ending: outcome.ending, detail: outcome.detail,
                                        guestSeconds: outcome.guestSeconds, domainName: spec.domainName)
                return (outcome, outcome.ending.rawValue)
            }
            report.logs.console = "\(target.id)/console.log"
            report.logs.domainXML = "\(target.id)/domain.xml"
            report.logs.qemu = outcome.qemuLog.map { _ in "\(target.id)/qemu.log" }
            // A console cut short by a full disk must not read as a guest that stopped mid-suite.
            if DiskSpace.isExhausted(at: folder) {
                throw HarnessError.infrastructure(
                    "no space left on the file system of --out (\(folder.path)): console.log may be cut short, so the guest's results cannot be judged; free space there or choose another --out")
            }

            stageStarted(target.id, .collect)
            let collected: CollectedResults = try timedStage(.collect, into: &stages) {
                (try ResultCollector.collect(consoleLog: outcome.consoleLog, qemuLog: outcome.qemuLog, ending: outcome.ending,
                                             detail: outcome.detail, context: verdictContext), nil)
            }
            verdicts = collected.verdicts
            report.suites = collected.document.suites
            report.ktapComplete = collected.document.isComplete
            report.planMismatch = collected.document.planMismatch
            report.consoleCut = collected.consoleCut
            report.findings = collected.findings
            report.status = collected.status
            report.reason = collected.reason
            if let mismatch = Self.variantMismatch(target, tests: collected.document.allTests), [.passed, .failed].contains(collected.status) {
                report.status = .unsupported
                report.reason = mismatch
            }
            if collected.status != .passed, collected.status != .failed { report.failedStage = .boot }
            switch (collected.hostFault, target.kernel) {
            case (.moduleRefused?, .user): report.errorKind = .usage
            case (.some, _): report.errorKind = .infrastructure
            case (nil, _): break
            }
        } catch let error as HarnessError {
            report.status = error.status == .interrupted ? .interrupted : .error
            report.failedStage = stages.last(where: { $0.status == .failed })?.stage
            report.reason = error.message
            report.errorKind = TargetReport.ErrorKind(error.status)
        } catch {
            report.status = .error
            report.failedStage = stages.last(where: { $0.status == .failed })?.stage
            report.reason = "\(error)"
            report.errorKind = .infrastructure
        }
        if cancellation.isCancelled, report.status != .passed, report.status != .failed {
            report.status = .interrupted
            report.reason = report.reason ?? "interrupted by the user"
        }
        let tests = report.suites.flatMap(\.tests)
        report.summary = TestCounts(tests: tests)
        let reportStart = Date()
        let judged = verdicts ?? VerdictClassifier.classify(tests: tests, context: verdictContext)
        report.attributes = judged.attributes
        report.combinations = judged.combinations
        report.contractFindings = judged.findings
        report.vacuous = judged.vacuous
        report.accelerator = verdictContext.accelerator
        stages.append(StageRecord(stage: .report, status: .ok, seconds: Date().timeIntervalSince(reportStart), detail: nil))
        report.stages = stages
        return report
    }

    /// A variant whose defining property the guest's kernel does not have: `noncoherent` on a
    /// device the kernel treats as coherent (dma_discovery `coherent=1`) tests nothing non-coherent,
    /// and `swiotlb` without an active bounce buffer (`swiotlb=0`) bounces nothing.
    static func variantMismatch(_ target: Target, tests: [TestResult]) -> String? {
        let path = DiscoveredPath(tests: tests)
        if target.variant == "noncoherent", path.coherent == true {
            return "the kernel treats the noncoherent variant's device as DMA-coherent (dma_discovery coherent=1), so no non-coherent path was exercised; results kept for reference"
        }
        if target.variant == "swiotlb", path.observed["swiotlb"] == "0" {
            return "swiotlb=force left the device without a bounce buffer (dma_discovery swiotlb=0), so no bounced mapping was exercised; results kept for reference"
        }
        return nil
    }

    private func checkCancelled() throws {
        if cancellation.isCancelled { throw HarnessError.interrupted }
    }
}
