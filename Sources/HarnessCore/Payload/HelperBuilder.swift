import Foundation

/// Builds the guest's static user-space helper (`harness/helper/*.c`) with the target's cross
/// compiler. The helper drives what only user space can check (mmap of DMA buffers); a checkout
/// without helper sources builds nothing.
public struct HelperBuilder: Sendable {
    public var cacheRoot: URL
    public var layout: ProjectLayout

    public init(cacheRoot: URL, layout: ProjectLayout) {
        self.cacheRoot = cacheRoot
        self.layout = layout
    }

    /// The helper's path, or nil when there are no helper sources.
    public func build(profile: ArchProfile) throws -> (URL, fromCache: Bool)? {
        let folder = layout.root.appendingPathComponent("harness/helper")
        let sources = ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { ["c", "h"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard sources.contains(where: { $0.pathExtension == "c" }) else { return nil }
        let compiler = profile.crossCompilePrefix + "gcc"
        guard Subprocess.resolve(compiler) != nil else {
            throw HarnessError.infrastructure("\(compiler) not found: apt-get install \(profile.crossCompilerPackage)")
        }
        // The ioctl header is the module's own: one file, so module and helper cannot drift apart.
        let uapi = layout.moduleSources.appendingPathComponent("dh_uapi.h")
        let key = try InputKey.digest(files: sources + [uapi], facts: [profile.name, compiler, "-static -O2 -Wall"])
        let output = cacheRoot.appendingPathComponent("builds/\(profile.name)/helper-\(key.prefix(16))/dma-harness-helper")
        if FileManager.default.isExecutableFile(atPath: output.path) { return (output, true) }
        return try FileLock.withLock(at: output.deletingLastPathComponent().appendingPathExtension("lock")) {
            if FileManager.default.isExecutableFile(atPath: output.path) { return (output, true) }
            try compile(sources: sources, compiler: compiler, profile: profile, output: output)
            return (output, false)
        }
    }

    private func compile(sources: [URL], compiler: String, profile: ArchProfile, output: URL) throws {
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        let outcome = try Subprocess.run(
            compiler, ["-static", "-O2", "-Wall", "-I", layout.moduleSources.path, "-o", output.path] + sources.filter { $0.pathExtension == "c" }.map(\.path))
        guard outcome.succeeded else {
            let libc = profile.crossCompilePrefix.isEmpty ? "libc6-dev" : "libc6-dev-\(profile.kbuildArch == "arm" ? "armhf" : profile.kbuildArch)-cross"
            let hint = outcome.standardError.contains("crt1.o") || outcome.standardError.contains("-lc")
                ? " (static libc missing: apt-get install \(libc))" : ""
            throw HarnessError.infrastructure("guest helper build for \(profile.name) failed: \(outcome.tail(lines: 2))\(hint)")
        }
    }
}
