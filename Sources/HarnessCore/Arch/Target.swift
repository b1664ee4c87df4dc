import Foundation

/// The kernel a target boots: Debian's for the arch, or the user's own build.
public enum KernelChoice: Sendable, Equatable {
    case debian
    /// `--kernel FILE --kbuild DIR`: the driver is built in DIR, FILE is booted.
    case user(kernelFile: String, kbuildDirectory: String)
}

/// One thing a run boots: an arch profile, a variant of it, a Debian kernel line and a kernel.
public struct Target: Sendable {
    public var profile: ArchProfile
    public var variant: String
    /// The Debian suite the kernel (or, for a user's kernel, busybox) comes from.
    public var suite: DebianSuite
    /// Whether `suite` is the catalog's default line, whose target ids carry no suite name.
    public var isDefaultSuite: Bool = true
    public var kernel: KernelChoice
    /// Set when the arch cannot run the variant: the target is reported, with this reason, not booted.
    public var unsupportedReason: String? = nil

    /// `<arch>-<variant>`, and `-<suite>` on a kernel line other than the default: the target's
    /// folder name under `--out` and its id in the report.
    public var id: String {
        "\(profile.name)-\(variant)" + (isDefaultSuite || kernel != .debian ? "" : "-\(suite.name)")
    }

    /// The clock the guest runs on.
    public var clock = GuestClock.realtime

    /// The DMA mask width QEMU's edu enforces (its `dma_mask`); the driver is told the same number.
    public var eduDMABits: Int = 32

    /// The guest driver's parameters for this target (written to the initramfs, read by the init).
    public var moduleArguments: [String] { ["edu_dma_bits=\(eduDMABits)", "variant=\(variant)"] }
}

/// The plan stage: expands `--arch`, `--variant` and `--debian` into targets, refusing what cannot
/// be run.
public enum TargetPlanner {
    public static let knownVariants = ["direct", "iommu", "noncoherent", "swiotlb"]

    public static func plan(
        arches: [String], variants: [String], suites: [String] = [], kernel: KernelChoice, catalog: ArchCatalog,
        eduDMABits: Int = 32
    ) throws -> [Target] {
        let profiles = try catalog.resolve(arches)
        let lines = try catalog.suites.resolve(suites)
        if case .user = kernel, profiles.count != 1 {
            throw HarnessError.usage("--kernel boots one arch: give exactly one --arch (the kernel's), not \(profiles.map(\.name).joined(separator: ","))")
        }
        if case .user = kernel, lines.count != 1 {
            throw HarnessError.usage("--kernel boots one kernel: give at most one --debian (the line its busybox comes from)")
        }
        let requested = variants.flatMap { $0 == "all" ? knownVariants : [$0] }
        for variant in requested where !knownVariants.contains(variant) {
            throw HarnessError.usage("unknown variant '\(variant)'; valid: \(knownVariants.joined(separator: ", ")), all")
        }
        // An arch named on its own must have a kernel on some asked-for line; under `all` it is
        // reported as unsupported where it has none.
        for name in arches where name != "all" {
            let reasons = lines.compactMap { catalog.unavailability(arch: name, suite: $0.name) }
            if reasons.count == lines.count, let reason = reasons.first, case .debian = kernel {
                let others = catalog.suites.names.filter { catalog.unavailability(arch: name, suite: $0) == nil }
                throw HarnessError.usage("--arch \(name) cannot run on \(lines.map(\.name).joined(separator: ", ")): \(reason)"
                    + (others.isEmpty ? "" : "; try --debian \(others.joined(separator: "|"))"))
            }
        }
        var targets: [Target] = []
        for line in lines {
            for profile in profiles {
                for variant in requested {
                    var target = Target(profile: profile, variant: variant, suite: line, kernel: kernel)
                    target.isDefaultSuite = line.name == catalog.suites.default
                    target.eduDMABits = eduDMABits
                    if case .debian = kernel, let reason = catalog.unavailability(arch: profile.name, suite: line.name) {
                        target.unsupportedReason = reason
                    } else if let support = profile.variants[variant] {
                        target.unsupportedReason = support.unsupported
                    } else {
                        target.unsupportedReason = "profile \(profile.name) does not describe variant \(variant)"
                    }
                    targets.append(target)
                }
            }
        }
        return targets
    }
}
