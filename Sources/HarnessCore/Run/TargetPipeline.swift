import Foundation
import Libvirt
import Logging

/// Carries one target through provision, build, boot and collect. A stage that fails stops this
/// target only; everything gathered before it stays in the target's report.
struct TargetPipeline {
    var options: RunOptions
    var layout: ProjectLayout
    var catalog: ArchCatalog
    var hosts: HostPool
    var cancellation: Cancellation
    var logger: Logger
    /// Content digests of the files the run uploads, each file read once.
    var digests = DigestCache()
    /// Told when a target enters a stage, for progress display.
    var stageStarted: (String, StageName) -> Void = { _, _ in }

    /// Words every boot gets: the console, no reboot loop after a panic, and no zeroing by the page
    /// allocator, so that the DMA layer's own zeroing is what the suite tests.
    static let baseKernelArguments = ["panic=-1", "init_on_alloc=0"]

    /// Boot work that no DMA check reads, skipped unless `--boot-self-tests`: the crypto manager's
    /// self-tests of every built-in algorithm. Under TCG they were most of a bookworm boot before
    /// `/init` (crypto_algapi_init; the README's "Boot shortcuts" has the figures), and the X.509
    /// certificate load waits for them. A kernel without the crypto manager ignores the word.
    static let bootShortcuts = ["cryptomgr.notests"]

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

    /// A target between its two halves: its report so far and, once built, what its boot needs.
    /// `artifacts` is nil when the target is already decided (unsupported, or a stage failed).
    struct InFlight: Sendable {
        var target: Target
        var report: TargetReport
        var stages: [StageRecord]
        var artifacts: Artifacts?

        struct Artifacts: Sendable {
            var image: GuestImage
            /// The kernel file the guest boots: the image's, or the ELF unpacked from it.
            var bootImage: String
            var initramfs: URL
            var kernelArguments: [String]
        }
    }

    /// The half that needs the network and the compiler but no guest: provision and build.
    /// A run prepares targets ahead of the cores that boot them (HarnessRun).
    func prepare(_ target: Target, planSeconds: Double) -> InFlight {
        var flight = InFlight(
            target: target,
            report: TargetReport(
                id: target.id, arch: target.profile.name, variant: target.variant, machine: target.profile.machine,
                cpu: target.profile.cpu ?? "", kernel: nil, status: .error, failedStage: nil,
                note: target.profile.variants[target.variant]?.note, errorKind: nil, reason: nil, stages: [],
                boot: nil, ktapComplete: false, suites: [], attributes: [], findings: [],
                summary: TestCounts(tests: []), logs: LogPaths()),
            stages: [StageRecord(stage: .plan, status: .ok, seconds: planSeconds, detail: nil)],
            artifacts: nil)
        if case .debian = target.kernel { flight.report.suite = target.suite.name }
        flight.report.clock = target.clock
        if let why = target.unsupportedReason {
            flight.report.status = .unsupported
            flight.report.reason = why
            return flight
        }
        let folder = targetFolder(target)
        guarded(&flight) { flight in
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try checkCancelled()

            stageStarted(target.id, .provision)
            let (image, bootImage): (GuestImage, String?) = try timedStage(.provision, into: &flight.stages) {
                let provisioner = ImageProvisioner(cacheRoot: options.cacheRoot, layout: layout, logger: logger)
                let (debian, cached) = try provisioner.provision(arch: target.profile.name, suite: target.suite)
                let image: GuestImage, detail: String
                switch target.kernel {
                case .debian:
                    (image, detail) = (debian, cached ? "cached" : "fetched")
                case .user(let kernelFile, let kbuild):
                    (image, detail) = (try UserKernel.image(kernelFile: kernelFile, kbuildDirectory: kbuild,
                                                            profile: target.profile, busyboxFrom: debian), "user kernel")
                }
                if let firmware = target.profile.firmware, !FileManager.default.fileExists(atPath: firmware) {
                    throw HarnessError.usage("the \(target.profile.name) profile boots the firmware \(firmware), which is missing: apt-get install \(target.profile.firmwarePackage ?? "the package that ships it") (or run .ci/install-deps)")
                }
                guard let uncompressed = target.profile.uncompressedBoot else { return ((image, nil), detail) }
                if options.bootCompressed { return ((image, nil), "\(detail); compressed kernel: --boot-compressed") }
                let (unpacked, how) = try KernelUnpacker(cacheRoot: options.cacheRoot)
                    .unpack(URL(fileURLWithPath: image.kernelImage), as: uncompressed)
                if unpacked == nil { logger.info("\(target.id): booting the compressed image: \(how)") }
                let kernel = unpacked == nil ? "compressed kernel: \(how)" : how == "cached" ? "unpacked kernel cached" : "kernel \(how)"
                return ((image, unpacked?.path), "\(detail); \(kernel)")
            }
            let kernelArguments = ["console=\(target.profile.consoleDevice)"] + Self.baseKernelArguments
                + (options.bootSelfTests ? [] : Self.bootShortcuts)
                + target.profile.kernelArguments + (target.profile.variants[target.variant]?.kernelArguments ?? [])
                + options.extraKernelArguments
            flight.report.kernel = KernelFacts(release: image.kernelRelease, image: image.kernelImage,
                                               provenance: image.provenance, moduleVermagic: nil,
                                               config: Self.dmaConfig(of: image, profile: target.profile),
                                               kernelArguments: kernelArguments)
            flight.report.kernel?.version = image.upstreamVersion
            flight.report.kernel?.bootImage = bootImage
            try checkCancelled()

            stageStarted(target.id, .build)
            var toolchainFacts: ToolchainFacts?
            let (module, initramfs): (BuiltModule, URL) = try timedStage(.build, into: &flight.stages) {
                let kernelSuite: DebianSuite? = target.kernel == .debian ? target.suite : nil
                guard let recipe = catalog.recipes[target.profile.name] else {
                    throw HarnessError.usage("no image recipe for arch '\(target.profile.name)'")
                }
                let toolchain = try Toolchain.select(
                    for: image, profile: target.profile, recipe: recipe,
                    suite: kernelSuite, cacheRoot: options.cacheRoot, logger: logger,
                    progress: { line in FileHandle.standardError.write(Data("harness: \(line)\n".utf8)) })
                toolchainFacts = toolchain.facts
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
            flight.report.kernel?.toolchain = toolchainFacts
            flight.report.kernel?.moduleVermagic = module.vermagic
            if FileManager.default.fileExists(atPath: module.buildLog.path) {
                try? FileManager.default.copyItem(at: module.buildLog, to: folder.appendingPathComponent("module-build.log"))
                flight.report.logs.moduleBuild = "\(target.id)/module-build.log"
            }
            flight.artifacts = .init(image: image, bootImage: bootImage ?? image.kernelImage, initramfs: initramfs, kernelArguments: kernelArguments)
        }
        return flight
    }

    /// The half that needs a core: boot (on the host slot `lease`, which it releases), collect,
    /// and the verdicts. A target that `prepare` already decided only gets its verdicts (none, for
    /// want of tests) and its report stage; so does one no host can run (lease nil), as an error.
    func finish(_ prepared: InFlight, lease: HostPool.Lease?) -> TargetReport {
        var flight = prepared
        let target = flight.target
        let folder = targetFolder(target)
        var verdicts: TargetVerdicts?
        if let artifacts = flight.artifacts {
            guarded(&flight) { flight in
                stageStarted(target.id, .boot)
                let outcome: BootOutcome = try timedStage(.boot, into: &flight.stages) {
                    let outcome = try boot(target, artifacts, on: lease, in: folder, report: &flight.report)
                    return (outcome, outcome.ending.rawValue)
                }
                flight.report.logs.console = "\(target.id)/console.log"
                flight.report.logs.domainXML = "\(target.id)/domain.xml"
                flight.report.logs.qemu = outcome.qemuLog.map { _ in "\(target.id)/qemu.log" }
                flight.report.logs.notKept = outcome.notKept.isEmpty ? nil : outcome.notKept
                // A console cut short by a full disk must not read as a guest that stopped mid-suite.
                if DiskSpace.isExhausted(at: folder) {
                    throw HarnessError.infrastructure(
                        "no space left on the file system of --out (\(folder.path)): console.log may be cut short, so the guest's results cannot be judged; free space there or choose another --out")
                }

                stageStarted(target.id, .collect)
                let context = verdictContext(flight)
                let collected: CollectedResults = try timedStage(.collect, into: &flight.stages) {
                    (try ResultCollector.collect(consoleLog: outcome.consoleLog, qemuLog: outcome.qemuLog, ending: outcome.ending,
                                                 detail: outcome.detail, context: context), nil)
                }
                verdicts = collected.verdicts
                flight.report.suites = collected.document.suites
                flight.report.ktapComplete = collected.document.isComplete
                flight.report.planMismatch = collected.document.planMismatch
                flight.report.consoleCut = collected.consoleCut
                flight.report.findings = collected.findings
                flight.report.status = collected.status
                flight.report.reason = collected.reason
                if let mismatch = Self.variantMismatch(target, tests: collected.document.allTests),
                   [.passed, .failed].contains(collected.status) {
                    flight.report.status = .unsupported
                    flight.report.reason = mismatch
                }
                if collected.status != .passed, collected.status != .failed { flight.report.failedStage = .boot }
                switch (collected.hostFault, target.kernel) {
                case (.moduleRefused?, .user): flight.report.errorKind = .usage
                case (.some, _): flight.report.errorKind = .infrastructure
                case (nil, _): break
                }
            }
        }
        var report = flight.report
        if target.unsupportedReason != nil {
            report.stages = flight.stages
            return report
        }
        if cancellation.isCancelled, report.status != .passed, report.status != .failed {
            report.status = .interrupted
            report.reason = report.reason ?? "interrupted by the user"
        }
        let tests = report.suites.flatMap(\.tests)
        report.summary = TestCounts(tests: tests)
        let reportStart = Date()
        let context = verdictContext(flight)
        let judged = verdicts ?? VerdictClassifier.classify(tests: tests, context: context)
        report.attributes = judged.attributes
        report.combinations = judged.combinations
        report.contractFindings = judged.findings
        report.vacuous = judged.vacuous
        report.accelerator = context.accelerator
        flight.stages.append(StageRecord(stage: .report, status: .ok, seconds: Date().timeIntervalSince(reportStart), detail: nil))
        report.stages = flight.stages
        return report
    }

    /// Boots the target on the leased host and releases the slot. When the host is lost under the
    /// boot, the attempt's console is kept, the host leaves the run, and the target moves once to
    /// another host that can run it; a second loss, or no such host, is an infrastructure error.
    private func boot(_ target: Target, _ artifacts: InFlight.Artifacts, on first: HostPool.Lease?, in folder: URL,
                      report: inout TargetReport) throws -> BootOutcome {
        guard var lease = first else {
            throw HarnessError.infrastructure(hosts.whyNoHost(for: target) ?? "no libvirt host was free to run \(target.id)")
        }
        if cancellation.isCancelled {
            hosts.release(lease)
            throw HarnessError.interrupted
        }
        var tried = Set<Int>()
        while true {
            do {
                let outcome = try boot(target, artifacts, on: lease, in: folder, recordingIn: &report)
                hosts.release(lease)
                return outcome
            } catch let lost as HostLost {
                // Out of the run before its slot frees, so that no other target is leased to it.
                hosts.markLost(lease.host, reason: lost.reason)
                hosts.release(lease)
                tried.insert(lease.host.index)
                let kept = "console.lost-\(tried.count).log"
                try? FileManager.default.moveItem(at: folder.appendingPathComponent("console.log"),
                                                  to: folder.appendingPathComponent(kept))
                report.hostLosses = (report.hostLosses ?? []) + [HostLoss(host: lease.host.displayURI, reason: lost.reason,
                                                                          console: "\(target.id)/\(kept)")]
                logger.warning("\(target.id): host \(lease.host.displayURI) lost: \(lost.reason)")
                let lostThere = "host \(lease.host.displayURI) was lost while it ran \(target.id) (\(lost.reason))"
                guard tried.count == 1 else { throw HarnessError.infrastructure("\(lostThere), after the target had moved there from another lost host") }
                guard let next = hosts.lease(for: target, excluding: tried) else {
                    throw HarnessError.infrastructure("\(lostThere); \(hosts.whyNoHost(for: target, excluding: tried) ?? "no other host is left")")
                }
                logger.info("\(target.id): moving to \(next.host.displayURI)")
                lease = next
            } catch {
                hosts.release(lease)
                throw error
            }
        }
    }

    /// One boot attempt on one host: the files staged there, the guest run, the host named in the report.
    private func boot(_ target: Target, _ artifacts: InFlight.Artifacts, on lease: HostPool.Lease, in folder: URL,
                      recordingIn report: inout TargetReport) throws -> BootOutcome {
        let host = lease.host
        let connection = try host.connection()
        report.host = host.displayURI
        let kernel: String, initramfs: String
        do {
            (kernel, initramfs) = try stage(artifacts, on: host)
        } catch {
            if let lost = connection.lostOrDead { throw HostLost(reason: lost) }
            throw error
        }
        let spec = BootSpec(domainName: connection.domainName(for: target), kernelImage: kernel,
                            initramfs: initramfs, kernelArguments: artifacts.kernelArguments)
        do {
            let outcome = try GuestRunner(connection: connection, logger: logger)
                .boot(target: target, spec: spec, hostEmulator: lease.emulator, outDirectory: folder,
                      timeout: options.timeout, cancellation: cancellation)
            report.boot = BootFacts(ending: outcome.ending, detail: outcome.detail,
                                    guestSeconds: outcome.guestSeconds, domainName: spec.domainName,
                                    timeline: outcome.timeline)
            return outcome
        } catch let error as HarnessError {
            if let lost = connection.lostOrDead { throw HostLost(reason: lost) }
            throw error
        }
    }

    /// The kernel and initramfs paths as the host sees them: this machine's files, or volumes.
    private func stage(_ artifacts: InFlight.Artifacts, on host: LibvirtHost) throws -> (String, String) {
        guard let stager = host.stager else { return (artifacts.bootImage, artifacts.initramfs.path) }
        let kernel = URL(fileURLWithPath: artifacts.bootImage)
        do {
            return (try stager.stage(kernel, digest: try digests.sha256(of: kernel)),
                    try stager.stage(artifacts.initramfs, digest: try digests.sha256(of: artifacts.initramfs)))
        } catch let error as LibvirtError {
            throw HarnessError.infrastructure("cannot upload the kernel and initramfs to \(host.displayURI): \(error.message)")
        }
    }

    private func targetFolder(_ target: Target) -> URL { options.outDirectory.appendingPathComponent(target.id) }

    // Every guest runs under TCG (DomainXML's domain type 'qemu'); the config is the image's.
    private func verdictContext(_ flight: InFlight) -> VerdictContext {
        VerdictContext(kernelConfig: flight.report.kernel?.config ?? [:], accelerator: "tcg",
                       kernelCauses: flight.target.profile.kernelCauses ?? [:])
    }

    /// Runs stages; an error ends the target there, as its status, failed stage and reason.
    private func guarded(_ flight: inout InFlight, _ body: (inout InFlight) throws -> Void) {
        do {
            try body(&flight)
        } catch {
            // Anything but a HarnessError is the harness's own trouble: an infrastructure error.
            let known = error as? HarnessError
            flight.report.status = known?.status == .interrupted ? .interrupted : .error
            flight.report.failedStage = flight.stages.last(where: { $0.status == .failed })?.stage
            flight.report.reason = known?.message ?? "\(error)"
            flight.report.errorKind = known.map { TargetReport.ErrorKind($0.status) } ?? .infrastructure
        }
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
