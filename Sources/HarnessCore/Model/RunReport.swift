import Foundation

/// `report.json`: one run, every target. Its shape is versioned by `schemaVersion`, `MAJOR.MINOR`
/// (README, "Reports for reviewers and CI"): a change that removes or renames a field, or changes
/// what one means, bumps the major number; adding an optional field bumps the minor. A harness
/// reads every minor of its own major version.
public struct RunReport: Codable, Sendable {
    /// 1.1 added `planMismatch` (target and suite) and `consoleCut`. 2.0 replaced each attribute's
    /// single class by a verdict in four parts (effect, ownContract, added, inherited) and added
    /// `contractFindings`, `combinations`, `vacuous` and `accelerator` to each target.
    /// 2.1 added each target's `suite` (its Debian kernel line) and the kernel's `version` and
    /// `toolchain`. 2.2 added the kernel's `bootImage`. 2.3 added the run's `hosts`, each
    /// target's `host` and `hostLosses`, and `logs.notKept`. 2.4 added the boot's `timeline`.
    public static let currentSchemaVersion = "2.4"

    public var schemaVersion: String = RunReport.currentSchemaVersion
    public var run: RunMetadata
    public var targets: [TargetReport]
    /// Set by `harness merge`: each shard's own run metadata, in the order the shards were given.
    public var mergedFrom: [RunMetadata]? = nil
    /// Set when a waiver file was applied (`--waivers`): what it waived, and which waivers are stale or expired.
    public var waivers: WaiverOutcome? = nil
}

/// Where and how the run happened.
public struct RunMetadata: Codable, Sendable {
    public var harnessVersion: String
    public var commandLine: [String]
    public var host: HostFacts
    public var libvirtURI: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// Set when the run as a whole was cut short (Ctrl-C) or could not start a stage.
    public var interruption: String?
    /// Every libvirt host of the run, in the order named, as measured through its connection (2.3).
    public var hosts: [HostRecord]? = nil
}

/// One libvirt host of a run (2.3). Its URI never carries credentials (Redaction).
public struct HostRecord: Codable, Sendable {
    public var uri: String
    /// Guests at once: as the hosts file said, else derived from `cpus` and `memoryMiB`.
    public var capacity: Int
    /// How the run's kernels and initramfs reached the host: `files` on this machine, `volumes` uploaded.
    public var artifacts: Artifacts
    public var libvirtVersion: String? = nil
    public var hypervisorVersion: String? = nil
    /// `virNodeGetInfo`.
    public var cpus: Int? = nil
    public var memoryMiB: Int? = nil
    /// The guest arches (libvirt's names) the host has a TCG emulator for, from its capabilities.
    public var arches: [String]? = nil
    public var kvm: KVM? = nil
    /// The storage pool the volumes went to.
    public var pool: String? = nil
    public var uploadedBytes: UInt64? = nil
    public var uploadedVolumes: Int? = nil
    /// Volumes the host already held, by content digest, so nothing was sent for them.
    public var reusedVolumes: Int? = nil
    /// Why the host dropped out mid-run (its daemon died, its network went away).
    public var lost: String? = nil
    /// Why the host could not be used at all (it took no target).
    public var unreachable: String? = nil

    public enum Artifacts: String, Codable, Sendable { case files, volumes }

    /// KVM on the host: advertised in its capabilities, and proved by a bounded probe. Guests run
    /// under TCG regardless; this says what the host could do.
    public struct KVM: Codable, Sendable {
        public var advertised: [String]
        public var works: Bool
        public var detail: String
    }
}

/// A host lost while it ran a target (2.3): the attempt's console is kept beside the target's.
public struct HostLoss: Codable, Sendable {
    public var host: String
    public var reason: String
    public var console: String?
}

/// The host the run used, as measured in the run.
public struct HostFacts: Codable, Sendable {
    public var hostname: String
    public var kernel: String
    public var cpus: Int
    public var libvirtVersion: String?
    public var qemuVersion: String?
}

/// The overall status of one target.
public enum TargetStatus: String, Codable, Sendable {
    /// Every test passed (skips allowed), the guest powered off.
    case passed
    /// The suite ran to its end but a test failed.
    case failed
    /// The guest panicked, oopsed to death or stopped mid-suite.
    case crashed
    /// The guest hung: nothing ended it within the timeout.
    case timedOut = "timed_out"
    /// A host-side stage (provision, build, boot set-up) failed; see `failedStage`.
    case error
    /// The user interrupted the run.
    case interrupted
    /// The arch cannot run this variant; `reason` says why. Not booted, not a failure.
    case unsupported
}

/// One target's part of the report.
public struct TargetReport: Codable, Sendable {
    public var id: String
    public var arch: String
    public var variant: String
    /// The Debian kernel line (`bookworm`, `trixie`, `sid`); nil for a user's own kernel and in
    /// reports older than 2.1.
    public var suite: String? = nil
    /// The clock the guest's own figures were measured on (2.1); absent means real time.
    public var clock: GuestClock? = nil
    public var machine: String
    public var cpu: String
    public var kernel: KernelFacts?
    public var status: TargetStatus
    /// The stage that stopped the target, if one did.
    public var failedStage: StageName?
    /// The profile's note on this arch in this variant, if any.
    public var note: String?
    /// For `error` targets: whether the input (`usage`) or the host (`infrastructure`) was at fault.
    public var errorKind: ErrorKind?
    /// One line saying why the target is not `passed`.
    public var reason: String?
    public var stages: [StageRecord]
    public var boot: BootFacts?
    public var ktapComplete: Bool
    public var suites: [SuiteResult]
    /// The baseline and each attribute (`ConformanceAttributes.columns`), each a verdict.
    public var attributes: [AttributeVerdict]
    /// Kernel trouble on the console: panics, Oopses, warnings.
    public var findings: [ConsoleFinding]
    public var summary: TestCounts
    public var logs: LogPaths
    /// Set when the suites reported are not exactly the top-level KTAP plan's 1..N (each suite's
    /// own plan is checked on the suite).
    public var planMismatch: PlanMismatch? = nil
    /// Set when the console was over a limit (README, "Console limits") and only part of it was read.
    public var consoleCut: ConsoleCut? = nil
    /// The tested pairs of attributes, each judged on what neither member nor the baseline shows (2.0).
    public var combinations: [AttributeVerdict]? = nil
    /// The broken promises, keyed by root cause, the most severe tier first (2.0).
    public var contractFindings: [ContractFinding]? = nil
    /// Checks that cannot fail on this host, never counted as evidence (2.0).
    public var vacuous: [VacuousCheck]? = nil
    /// The accelerator the guest ran under (`tcg`), which decides what is vacuous (2.0).
    public var accelerator: String? = nil
    /// The libvirt host the target booted on (2.3), as `run.hosts` names it.
    public var host: String? = nil
    /// Hosts lost while they ran this target, in order (2.3); the target moved to another host once.
    public var hostLosses: [HostLoss]? = nil
}

extension TargetReport {
    /// Who was at fault when a host-side stage failed.
    public enum ErrorKind: String, Codable, Sendable {
        case usage, infrastructure, interrupted

        init(_ status: ExitStatus) {
            switch status {
            case .usage: self = .usage
            case .interrupted: self = .interrupted
            default: self = .infrastructure
            }
        }
    }
}

/// The kernel a target booted and where it came from.
public struct KernelFacts: Codable, Sendable {
    public var release: String
    public var image: String
    public var provenance: GuestImage.Provenance
    /// The guest driver's vermagic, as kbuild stamped it.
    public var moduleVermagic: String?
    /// The kernel config options that decide what the DMA layer can do (from the image's config).
    public var config: [String: String]?
    public var kernelArguments: [String]
    /// The upstream version (`6.12.117`), the axis a comparison across kernel lines reads.
    public var version: String? = nil
    /// What the guest driver was built with (2.1).
    public var toolchain: ToolchainFacts? = nil
    /// The uncompressed ELF the guest booted, unpacked from `image` on the host (the profile's
    /// `uncompressedBoot`); nil when `image` itself booted.
    public var bootImage: String? = nil
}

/// How the boot ended, measured on the host.
public struct BootFacts: Codable, Sendable {
    public var ending: BootEnding
    public var detail: String
    /// Seconds from resuming the guest to its power-off (or its end).
    public var guestSeconds: Double
    public var domainName: String
    /// Where those seconds went (2.4): boot, then each suite.
    public var timeline: BootTimeline? = nil
}

/// When the harness read the guest's milestones on its console, in real seconds after it resumed
/// the guest (2.4): boot against suite time, and which suite took the wall time. Measured on the
/// host, so it holds whatever the guest clock; the console of a local guest is polled every 50 ms,
/// which bounds the resolution.
public struct BootTimeline: Codable, Sendable, Equatable {
    /// The kernel's "Run /init as init process".
    public var initSeconds: Double?
    /// The init's "dma-harness: suite start", just before the module loads.
    public var suiteStartSeconds: Double?
    /// The init's "dma-harness: suite end", before it powers the guest off.
    public var suiteEndSeconds: Double?
    /// Each top-level KTAP result line (a suite's result), in console order.
    public var suites: [SuiteArrival]

    /// "boot 2.9 s, suite 2.6 s" (boot: resume to the suite's start), when both ends were seen.
    public var split: String? {
        guard let start = suiteStartSeconds, let end = suiteEndSeconds, end >= start else { return nil }
        return String(format: "boot %.1f s, suite %.1f s", start, end - start)
    }
}

/// A suite's result line and when it was read.
public struct SuiteArrival: Codable, Sendable, Equatable {
    public var name: String
    public var seconds: Double
}

/// Test counts, by status.
public struct TestCounts: Codable, Sendable, Equatable {
    public var total = 0
    public var passed = 0
    public var failed = 0
    public var skipped = 0
    public var notRun = 0

    public init(tests: [TestResult]) {
        total = tests.count
        for test in tests {
            switch test.status {
            case .pass: passed += 1
            case .fail: failed += 1
            case .skip: skipped += 1
            case .notRun: notRun += 1
            }
        }
    }
}

/// The evidence files, relative to the report.
public struct LogPaths: Codable, Sendable {
    public var console: String?
    public var qemu: String?
    public var domainXML: String?
    public var moduleBuild: String?
    /// Evidence that exists but could not be fetched, by name (`qemu`), with the reason (2.3).
    public var notKept: [String: String]? = nil
}
