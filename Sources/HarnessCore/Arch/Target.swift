import Foundation

/// The kernel a target boots: Debian's for the arch, or the user's own build.
public enum KernelChoice: Sendable, Equatable {
    case debian
    /// `--kernel FILE --kbuild DIR`: the driver is built in DIR, FILE is booted.
    case user(kernelFile: String, kbuildDirectory: String)
}

/// One thing a run boots: an arch profile, a variant of it, and a kernel.
public struct Target: Sendable {
    public var profile: ArchProfile
    public var variant: String
    public var kernel: KernelChoice
    /// Set when the arch cannot run the variant: the target is reported, with this reason, not booted.
    public var unsupportedReason: String? = nil

    /// `arm-direct`: the target's folder name under `--out` and its id in the report.
    public var id: String { "\(profile.name)-\(variant)" }

    /// The DMA mask width QEMU's edu enforces (its `dma_mask`); the driver is told the same number.
    public var eduDMABits: Int = 32

    /// The guest driver's parameters for this target (written to the initramfs, read by the init).
    public var moduleArguments: [String] { ["edu_dma_bits=\(eduDMABits)", "variant=\(variant)"] }
}

/// The plan stage: expands `--arch` and `--variant` into targets, refusing what cannot be run.
public enum TargetPlanner {
    public static let knownVariants = ["direct", "iommu", "noncoherent", "swiotlb"]

    public static func plan(
        arches: [String], variants: [String], kernel: KernelChoice, catalog: ArchCatalog, eduDMABits: Int = 32
    ) throws -> [Target] {
        let profiles = try catalog.resolve(arches)
        if case .user = kernel, profiles.count != 1 {
            throw HarnessError.usage("--kernel boots one arch: give exactly one --arch (the kernel's), not \(profiles.map(\.name).joined(separator: ","))")
        }
        let requested = variants.flatMap { $0 == "all" ? knownVariants : [$0] }
        for variant in requested where !knownVariants.contains(variant) {
            throw HarnessError.usage("unknown variant '\(variant)'; valid: \(knownVariants.joined(separator: ", ")), all")
        }
        var targets: [Target] = []
        for profile in profiles {
            for variant in requested {
                var target = Target(profile: profile, variant: variant, kernel: kernel)
                target.eduDMABits = eduDMABits
                if let support = profile.variants[variant] {
                    target.unsupportedReason = support.unsupported
                } else {
                    target.unsupportedReason = "profile \(profile.name) does not describe variant \(variant)"
                }
                targets.append(target)
            }
        }
        return targets
    }
}
