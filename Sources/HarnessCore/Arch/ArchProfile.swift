import Foundation

/// How to boot one architecture: read from `images/profiles/<name>.json`. Adding an architecture means
/// adding one profile and one recipe; nothing in the pipeline names an architecture.
public struct ArchProfile: Codable, Sendable, Equatable {
    /// The harness's name for the arch, used on the command line and in target ids.
    public var name: String
    /// libvirt's `<type arch=...>`, which is not always the harness's name for the arch.
    public var libvirtArch: String
    /// The QEMU system emulator (`qemu-system-...`).
    public var qemuBinary: String
    /// The Debian package that ships `qemuBinary`, named when it is missing.
    public var qemuPackage: String
    /// QEMU machine type.
    public var machine: String
    /// Extra `-machine` options libvirt has no element for, merged by QEMU.
    public var machineOptions: [String]
    /// The CPU model; nil leaves the choice to QEMU's machine default (no `<cpu>` element).
    public var cpu: String?
    /// The guest clock this arch runs on unless `--clock` says otherwise: the fastest one measured
    /// to give the same test ids and statuses as real time on every variant and kernel line
    /// (Tests/Benchmarks/clock_equivalence.py); nil is real time.
    public var clock: GuestClock?
    /// Boot the kernel unpacked from the kernel image instead of the image itself (KernelUnpacker),
    /// when the image has one the boot can use; nil boots the image as it is.
    public var uncompressedBoot: UncompressedBoot?
    /// A firmware image QEMU loads instead of its machine's default (`<loader type='rom'>`), such
    /// as a faster one than the default BIOS; nil keeps the default.
    public var firmware: String?
    /// The Debian package that ships `firmware`, named when it is missing.
    public var firmwarePackage: String?
    /// libvirt `<features>` children the guest needs, each `name` or `name attribute=value ...`
    /// (a power-off reaches libvirt only if the guest can signal it, e.g. through ACPI).
    public var features: [String]
    /// The guest's serial console device, for `console=`.
    public var consoleDevice: String
    public var memoryMiB: Int
    public var vcpus: Int
    /// The PCI bus QEMU names the root bus of this machine (`pcie.0`).
    public var pciRootBus: String
    /// A free slot on that bus for the `edu` device.
    public var eduPCISlot: Int
    /// Kernel command line words every boot of this arch needs, beyond the console.
    public var kernelArguments: [String]
    /// Kbuild's `ARCH=` value.
    public var kbuildArch: String
    /// The GNU triplet of the guest (`<cpu>-linux-gnu...`): the cross compilers' prefix and the
    /// suffix of their Debian package names. A guest of the host's own arch builds natively.
    public var gnuTriplet: String
    /// Kernel config options beyond the common DMA ones that a reader of this arch's report needs.
    public var kernelConfigKeys: [String]?
    /// How a kernel image for this arch identifies itself; a `--kernel` file is checked against it.
    public var kernelMagic: KernelMagic
    /// The variants this arch can boot, and for each one it cannot, why not.
    public var variants: [String: VariantSupport]
    /// Where this arch's own DMA code, not the generic one, is behind a root cause (by cause id):
    /// the citation a finding then carries.
    public var kernelCauses: [String: ArchKernelCause]?

    /// An uncompressed kernel QEMU can enter directly, in one of two forms: an ELF with the note
    /// that marks its entry point (`elfNote`), or a raw kernel that must sit at a fixed offset
    /// into RAM, which the compressed image's header table states (`rawImage`).
    public struct UncompressedBoot: Codable, Sendable, Equatable {
        public struct ElfNote: Codable, Sendable, Equatable {
            public var name: String
            public var type: UInt32
        }
        /// Where QEMU is to load a raw kernel, and how the uImage wrapper that tells it says so.
        public struct RawImage: Codable, Sendable, Equatable {
            /// The machine's first RAM address, in hex: the kernel goes at this plus its text offset.
            public var memoryBase: String
            /// The uImage header's architecture code (U-Boot's `IH_ARCH_*`).
            public var uImageArchitecture: UInt8

            /// `memoryBase` as a number; nil when it is not hex.
            public var memoryBaseAddress: UInt64? {
                let digits = memoryBase.lowercased().hasPrefix("0x") ? String(memoryBase.dropFirst(2)) : memoryBase
                return UInt64(digits, radix: 16)
            }
        }
        public var elfNote: ElfNote?
        public var rawImage: RawImage?
        /// Why this arch boots uncompressed, for readers of the profile.
        public var why: String?
    }

    /// The arch's kernel file and function behind a root cause, and how it comes about.
    public struct ArchKernelCause: Codable, Sendable, Equatable {
        public var file: String
        public var function: String
        public var mechanism: String
        /// The arch's code is taken only for a device the kernel treats as non-coherent.
        public var onlyWhenNoncoherent: Bool?
    }

    /// Bytes at a fixed offset of a boot image (after gunzip when the file is gzip-compressed).
    public struct KernelMagic: Codable, Sendable, Equatable {
        public var offset: Int
        /// The expected bytes, as hex.
        public var hex: String
        /// What the format is called, for error messages.
        public var format: String
    }

    /// Whether an arch can run a variant, and if not, why (reported instead of pretending).
    public struct VariantSupport: Codable, Sendable, Equatable {
        /// Nil when supported; otherwise the reason it is not.
        public var unsupported: String?
        /// Extra machine options the variant needs (an IOMMU that is a machine option in QEMU).
        public var machineOptions: [String]?
        /// Extra kernel command line words the variant needs.
        public var kernelArguments: [String]?
        /// The libvirt `<iommu model=...>` the variant adds.
        public var iommu: String?
        /// Attributes of that IOMMU's `<driver>` element (interrupt remapping, for one).
        public var iommuDriver: [String: String]?
        /// `<features>` children the variant adds, in the profile's `features` form.
        public var features: [String]?
        /// The guest clock of this variant when it is not the profile's (`clock`).
        public var clock: GuestClock?
        /// Why the variant's clock is not the profile's, for readers of the profile.
        public var clockWhy: String?
        /// What a reader of the report should know about this arch in this variant.
        public var note: String?
    }

    /// The clock `variant` runs on unless `--clock` says otherwise: the variant's, else the profile's,
    /// else real time.
    public func defaultClock(variant: String) -> GuestClock {
        variants[variant]?.clock ?? clock ?? .realtime
    }
}

/// Loads the architecture profiles kept as data under `images/profiles/`, with their image
/// recipes and the Debian kernel lines (`images/suites.json`).
public struct ArchCatalog: Sendable {
    public private(set) var profiles: [String: ArchProfile]
    public private(set) var recipes: [String: ImageRecipe] = [:]
    public private(set) var suites: SuiteCatalog

    public init(layout: ProjectLayout) throws {
        suites = try SuiteCatalog(layout: layout)
        let files = (try? FileManager.default.contentsOfDirectory(
            at: layout.profilesDirectory, includingPropertiesForKeys: nil)) ?? []
        var profiles: [String: ArchProfile] = [:]
        for file in files where file.pathExtension == "json" {
            do {
                let profile = try JSONDecoder().decode(ArchProfile.self, from: Data(contentsOf: file))
                profiles[profile.name] = profile
            } catch {
                throw HarnessError.usage("profile \(file.path) is not valid: \(error)")
            }
        }
        guard !profiles.isEmpty else {
            throw HarnessError.usage("no architecture profiles in \(layout.profilesDirectory.path)")
        }
        self.profiles = profiles
        for name in profiles.keys {
            recipes[name] = try ImageRecipe.load(arch: name, layout: layout)
        }
    }

    /// Why the Debian line `suite` has no kernel for `arch`, or nil when it has one.
    public func unavailability(arch: String, suite: String) -> String? {
        recipes[arch]?.unavailableIn?[suite]
    }

    /// Every known arch name, sorted.
    public var names: [String] { profiles.keys.sorted() }

    /// The profile for `name`, or a usage error that lists the valid names.
    public func profile(named name: String) throws -> ArchProfile {
        guard let profile = profiles[name] else {
            throw HarnessError.usage("unknown arch '\(name)'; valid: \(names.joined(separator: ", ")), all")
        }
        return profile
    }

    /// Expands `all` and validates each name.
    public func resolve(_ names: [String]) throws -> [ArchProfile] {
        var result: [ArchProfile] = []
        for name in names {
            if name == "all" {
                result += self.names.map { profiles[$0]! }
            } else {
                result.append(try profile(named: name))
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0.name).inserted }
    }
}
