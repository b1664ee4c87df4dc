import Foundation

/// How to boot one architecture: read from `images/profiles/<name>.json`. Adding an architecture means
/// adding one profile and one recipe; nothing in the pipeline names an architecture.
public struct ArchProfile: Codable, Sendable, Equatable {
    /// The harness's name for the arch (`arm`, `arm64`, `x86_64`), used on the command line.
    public var name: String
    /// libvirt's `<type arch=...>` (`armv7l` for 32-bit ARM).
    public var libvirtArch: String
    /// The QEMU system emulator, e.g. `qemu-system-arm`.
    public var qemuBinary: String
    /// The Debian package that ships `qemuBinary`, named when it is missing.
    public var qemuPackage: String
    /// QEMU machine type (`virt`, `q35`).
    public var machine: String
    /// Extra `-machine` options libvirt has no element for (arm needs `highmem=off`), merged by QEMU.
    public var machineOptions: [String]
    public var cpu: String
    /// libvirt `<features>` children the guest needs (x86 needs `acpi` for power-off to reach libvirt).
    public var features: [String]
    /// The guest's serial console device, for `console=`.
    public var consoleDevice: String
    public var memoryMiB: Int
    public var vcpus: Int
    /// The PCI bus QEMU names the root bus of this machine (`pcie.0` on virt and q35).
    public var pciRootBus: String
    /// A free slot on that bus for the `edu` device.
    public var eduPCISlot: Int
    /// Kernel command line words every boot of this arch needs, beyond the console.
    public var kernelArguments: [String]
    /// Kbuild's `ARCH=` value.
    public var kbuildArch: String
    /// Cross compiler prefix, empty for a native build.
    public var crossCompilePrefix: String
    /// Debian package of that cross compiler, named when it is missing.
    public var crossCompilerPackage: String
    /// How a kernel image for this arch identifies itself; a `--kernel` file is checked against it.
    public var kernelMagic: KernelMagic
    /// The variants this arch can boot, and for each one it cannot, why not.
    public var variants: [String: VariantSupport]

    /// Bytes at a fixed offset of a boot image (after gunzip when the file is gzip-compressed).
    public struct KernelMagic: Codable, Sendable, Equatable {
        public var offset: Int
        /// The expected bytes, as hex.
        public var hex: String
        /// What the format is called, for error messages ("ARM zImage").
        public var format: String
    }

    /// Whether an arch can run a variant, and if not, why (reported instead of pretending).
    public struct VariantSupport: Codable, Sendable, Equatable {
        /// Nil when supported; otherwise the reason it is not.
        public var unsupported: String?
        /// Extra machine options the variant needs (e.g. `iommu=smmuv3`).
        public var machineOptions: [String]?
        /// Extra kernel command line words the variant needs (e.g. `intel_iommu=on`).
        public var kernelArguments: [String]?
        /// The libvirt `<iommu model=...>` the variant adds (`intel`, `smmuv3`).
        public var iommu: String?
        /// What a reader of the report should know about this arch in this variant.
        public var note: String?
    }
}

/// Loads the architecture profiles kept as data under `images/profiles/`.
public struct ArchCatalog: Sendable {
    public private(set) var profiles: [String: ArchProfile]

    public init(layout: ProjectLayout) throws {
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
