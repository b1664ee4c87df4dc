import Foundation
import Logging

/// The provision stage: turns a recipe and a Debian suite into a verified, extracted, cached
/// `GuestImage`: the kernel, its headers, the suite's kbuild host tools and busybox. A second run
/// reads the cached manifest and needs no network.
public struct ImageProvisioner: Sendable {
    public var cacheRoot: URL
    public var layout: ProjectLayout
    var logger: Logger

    public init(cacheRoot: URL, layout: ProjectLayout, logger: Logger) {
        self.cacheRoot = cacheRoot
        self.layout = layout
        self.logger = logger
    }

    func imageFolder(arch: String, suite: DebianSuite) -> URL {
        cacheRoot.appendingPathComponent("images/\(suite.name)/\(arch)")
    }

    func manifestFile(arch: String, suite: DebianSuite) -> URL {
        imageFolder(arch: arch, suite: suite).appendingPathComponent("manifest.json")
    }

    /// The cached image for `arch` of `suite`, if its manifest and every file it names are present.
    public func cachedImage(arch: String, suite: DebianSuite) -> GuestImage? {
        guard let data = FileManager.default.contents(atPath: manifestFile(arch: arch, suite: suite).path),
              let image = try? JSONDecoder().decode(GuestImage.self, from: data)
        else { return nil }
        let files = [image.kernelImage, image.busybox, image.kbuildDirectory + "/Makefile"]
        return files.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? image : nil
    }

    /// Returns the image for `arch` of `suite`: the cached one unless `refresh`, else resolved,
    /// downloaded, verified against the archive's sha256 and extracted. The Bool says whether the
    /// cache served it.
    public func provision(arch: String, suite: DebianSuite, refresh: Bool = false) throws -> (GuestImage, fromCache: Bool) {
        let recipe = try ImageRecipe.load(arch: arch, layout: layout)
        if let why = recipe.unavailableIn?[suite.name] {
            throw HarnessError.usage("--arch \(arch) cannot run on \(suite.name): \(why)")
        }
        if !refresh, let image = cachedImage(arch: arch, suite: suite) { return (image, true) }
        // Two targets of one arch (or two runs) must not fetch into the same tree at once.
        let lock = imageFolder(arch: arch, suite: suite).appendingPathExtension("lock")
        return try FileLock.withLock(at: lock) {
            if !refresh, let image = cachedImage(arch: arch, suite: suite) { return (image, true) }
            return (try fetch(recipe: recipe, suite: suite, refresh: refresh), false)
        }
    }

    private func fetch(recipe: ImageRecipe, suite: DebianSuite, refresh: Bool) throws -> GuestImage {
        let archive = DebianArchive(suite: suite, debianArch: recipe.debianArch, cacheRoot: cacheRoot, logger: logger)
        // kbuild's fixdep and modpost run where the build runs: they come for the host's arch.
        let hostArchive = DebianArchive(suite: suite, debianArch: HostPlatform.debianArch, cacheRoot: cacheRoot, logger: logger)
        // The guest's arch first, so a failure names the archive the user asked about.
        for one in archive.debianArch == hostArchive.debianArch ? [archive] : [archive, hostArchive] {
            try one.updateIfNeeded(refresh: refresh)
        }

        let imagePackage = try resolveVersioned(recipe.kernelImage, prefix: "linux-image-", in: archive)
        let release = String(imagePackage.dropFirst("linux-image-".count))
        let headersPackage = "linux-headers-\(release)"
        let headerDependencies = try archive.dependencies(of: headersPackage)
        guard let commonPackage = headerDependencies.first(where: { $0.hasPrefix("linux-headers-") && $0.hasSuffix("-common") }) else {
            throw HarnessError.infrastructure("\(headersPackage) names no -common headers package")
        }
        guard let kbuildPackage = headerDependencies.first(where: { $0.hasPrefix("linux-kbuild-") }) else {
            throw HarnessError.infrastructure("\(headersPackage) names no linux-kbuild package")
        }
        // Newer lines split the image package: the boot image and config come in packages of the
        // same release it depends on (`linux-binary-<release>`, `linux-base-<release>`). The
        // modules are not needed: the initramfs loads only the harness's own.
        let imageParts = try archive.dependencies(of: imagePackage).filter {
            $0.hasSuffix("-\(release)") && $0 != headersPackage && !$0.hasPrefix("linux-modules-")
        }
        let sources = try ([imagePackage] + imageParts + [headersPackage, commonPackage, recipe.busybox])
            .map { (try archive.describe($0), archive) }
            + [(hostArchive.describe(kbuildPackage), hostArchive)]
        let packages = sources.map(\.0)
        let kbuildDependencies = try hostArchive.dependencies(of: kbuildPackage)

        let root = imageFolder(arch: recipe.arch, suite: suite).appendingPathComponent("\(release)_\(packages[0].version)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // A tree is an image only once its manifest is written; a half-extracted one goes.
        var complete = false
        defer { if !complete { try? FileManager.default.removeItem(at: root) } }
        for (package, from) in sources {
            logger.info("fetching \(package.name) \(package.version) (\(package.size / 1_048_576) MiB)")
            let deb = try from.download(package, into: cacheRoot.appendingPathComponent("debs/\(suite.name)/\(package.architecture)"))
            try Subprocess.checked("dpkg-deb", ["-x", deb.path, root.path])
        }

        let flavour = root.appendingPathComponent("usr/src/linux-headers-\(release)")
        let common = root.appendingPathComponent("usr/src/\(commonPackage)")
        try KernelHeaders.fixUp(flavour: flavour, common: common)
        let inTree = { (pattern: String) in root.appendingPathComponent(pattern.replacingOccurrences(of: "{release}", with: release)) }
        guard let kernelImage = recipe.kernelImagePaths.map(inTree).first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw HarnessError.infrastructure("\(imagePackage) has none of \(recipe.kernelImagePaths.joined(separator: ", ")) (recipe \(recipe.arch).json's kernelImagePaths)")
        }
        let config = ["boot/config-{release}", "usr/lib/modules/{release}/config"].map(inTree)
            .first { FileManager.default.fileExists(atPath: $0.path) }

        var image = GuestImage(
            arch: recipe.arch,
            kernelRelease: release,
            kernelImage: kernelImage.path,
            kernelConfig: config?.path,
            kbuildDirectory: flavour.path,
            busybox: try busybox(in: root, package: recipe.busybox).path,
            provenance: .debian(packages: packages, suite: suite.name))
        image.kbuildDependencies = kbuildDependencies
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(image).write(to: manifestFile(arch: recipe.arch, suite: suite), options: .atomic)
        complete = true
        pruneOldImages(arch: recipe.arch, suite: suite, keeping: root)
        return image
    }

    /// busybox where its package put it: `bin/` before Debian's merged /usr, `usr/bin/` after.
    private func busybox(in root: URL, package: String) throws -> URL {
        let candidates = ["bin/busybox", "usr/bin/busybox"].map { root.appendingPathComponent($0) }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw HarnessError.infrastructure("\(package) has no bin/busybox or usr/bin/busybox")
        }
        return found
    }

    /// The versioned package a meta package depends on (`linux-image-<flavour>` -> `linux-image-<ABI>-<flavour>`).
    private func resolveVersioned(_ meta: String, prefix: String, in archive: DebianArchive) throws -> String {
        let candidates = try archive.dependencies(of: meta).filter {
            $0.hasPrefix(prefix) && $0.dropFirst(prefix.count).first?.isNumber == true
        }
        guard let name = candidates.first else {
            throw HarnessError.infrastructure("meta package \(meta) (\(archive.debianArch)) depends on no \(prefix)<ABI> package")
        }
        return name
    }

    /// Removes extracted trees of older kernels of this arch and suite; the `.deb` files stay.
    private func pruneOldImages(arch: String, suite: DebianSuite, keeping current: URL) {
        let folder = imageFolder(arch: arch, suite: suite)
        let entries = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for entry in entries where entry.hasDirectoryPath && entry.lastPathComponent != current.lastPathComponent {
            try? FileManager.default.removeItem(at: entry)
        }
    }
}
