import Foundation
import Logging

/// The provision stage: turns a recipe into a verified, extracted, cached `GuestImage`.
/// A second run reads the cached manifest and needs no network.
public struct ImageProvisioner: Sendable {
    public var cacheRoot: URL
    public var layout: ProjectLayout
    var logger: Logger

    /// The host's kbuild tools (fixdep, modpost) that every cross build uses.
    public static let hostKbuild = URL(fileURLWithPath: "/usr/lib/linux-kbuild-6.1")

    public init(cacheRoot: URL, layout: ProjectLayout, logger: Logger) {
        self.cacheRoot = cacheRoot
        self.layout = layout
        self.logger = logger
    }

    func manifestFile(arch: String) -> URL {
        cacheRoot.appendingPathComponent("images/\(arch)/manifest.json")
    }

    /// The cached image for `arch`, if its manifest and every file it names are present.
    public func cachedImage(arch: String) -> GuestImage? {
        guard let data = FileManager.default.contents(atPath: manifestFile(arch: arch).path),
              let image = try? JSONDecoder().decode(GuestImage.self, from: data)
        else { return nil }
        let files = [image.kernelImage, image.busybox, image.kbuildDirectory + "/Makefile"]
        return files.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? image : nil
    }

    /// Returns the image for `arch`: the cached one unless `refresh`, else resolved, downloaded,
    /// verified against the archive's sha256 and extracted. The Bool says whether the cache served it.
    public func provision(arch: String, refresh: Bool = false) throws -> (GuestImage, fromCache: Bool) {
        if !refresh, let image = cachedImage(arch: arch) { return (image, true) }
        // Two targets of one arch (or two runs) must not fetch into the same tree at once.
        return try FileLock.withLock(at: cacheRoot.appendingPathComponent("images/\(arch).lock")) {
            if !refresh, let image = cachedImage(arch: arch) { return (image, true) }
            return (try fetch(arch: arch, refresh: refresh), false)
        }
    }

    private func fetch(arch: String, refresh: Bool) throws -> GuestImage {
        let recipe = try ImageRecipe.load(arch: arch, layout: layout)
        guard FileManager.default.fileExists(atPath: Self.hostKbuild.appendingPathComponent("scripts").path) else {
            throw HarnessError.infrastructure("host kbuild tools missing: apt-get install linux-kbuild-6.1 (or linux-headers-amd64)")
        }
        let archive = DebianArchive(debianArch: recipe.debianArch, cacheRoot: cacheRoot, logger: logger)
        if refresh || !archive.hasLists { try archive.update() }

        let imagePackage = try resolveVersioned(recipe.kernelImage, prefix: "linux-image-", in: archive)
        let release = String(imagePackage.dropFirst("linux-image-".count))
        let headersPackage = "linux-headers-\(release)"
        guard let commonPackage = try archive.dependencies(of: headersPackage).first(where: { $0.hasSuffix("-common") }) else {
            throw HarnessError.infrastructure("\(headersPackage) names no -common headers package")
        }
        let packages = try [imagePackage, headersPackage, commonPackage, recipe.busybox].map { try archive.describe($0) }

        let debs = cacheRoot.appendingPathComponent("debs/\(recipe.debianArch)")
        let root = cacheRoot.appendingPathComponent("images/\(arch)/\(release)_\(packages[0].version)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // A tree is an image only once its manifest is written; a half-extracted one goes.
        var complete = false
        defer { if !complete { try? FileManager.default.removeItem(at: root) } }
        for package in packages {
            logger.info("fetching \(package.name) \(package.version) (\(package.size / 1_048_576) MiB)")
            let deb = try archive.download(package, into: debs)
            try Subprocess.checked("dpkg-deb", ["-x", deb.path, root.path])
        }

        let flavour = root.appendingPathComponent("usr/src/linux-headers-\(release)")
        let common = root.appendingPathComponent("usr/src/\(commonPackage)")
        try KernelHeaders.fixUp(flavour: flavour, common: common, hostKbuild: Self.hostKbuild)

        let image = GuestImage(
            arch: arch,
            kernelRelease: release,
            kernelImage: root.appendingPathComponent("boot/vmlinuz-\(release)").path,
            kernelConfig: root.appendingPathComponent("boot/config-\(release)").path,
            kbuildDirectory: flavour.path,
            busybox: root.appendingPathComponent("bin/busybox").path,
            provenance: .debian(packages: packages))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(image).write(to: manifestFile(arch: arch), options: .atomic)
        complete = true
        pruneOldImages(arch: arch, keeping: root)
        return image
    }

    /// The versioned package a meta package depends on (`linux-image-armmp` -> `linux-image-6.1.0-50-armmp`).
    private func resolveVersioned(_ meta: String, prefix: String, in archive: DebianArchive) throws -> String {
        let candidates = try archive.dependencies(of: meta).filter {
            $0.hasPrefix(prefix) && $0.dropFirst(prefix.count).first?.isNumber == true
        }
        guard let name = candidates.first else {
            throw HarnessError.infrastructure("meta package \(meta) (\(archive.debianArch)) depends on no \(prefix)<ABI> package")
        }
        return name
    }

    /// Removes extracted trees of older kernels of this arch; the `.deb` files stay.
    private func pruneOldImages(arch: String, keeping current: URL) {
        let folder = cacheRoot.appendingPathComponent("images/\(arch)")
        let entries = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for entry in entries where entry.hasDirectoryPath && entry.lastPathComponent != current.lastPathComponent {
            try? FileManager.default.removeItem(at: entry)
        }
    }
}
