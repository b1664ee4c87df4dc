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
    public func build(profile: ArchProfile, toolchain: Toolchain) throws -> (URL, fromCache: Bool)? {
        let sources = ((try? FileManager.default.contentsOfDirectory(at: layout.helperSources, includingPropertiesForKeys: nil)) ?? [])
            .filter { ["c", "h"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard sources.contains(where: { $0.pathExtension == "c" }) else { return nil }
        // The ioctl header is the module's own: one file, so module and helper cannot drift apart.
        let uapi = layout.moduleSources.appendingPathComponent("dh_uapi.h")
        let key = try InputKey.digest(files: sources + [uapi], facts: [
            profile.name, toolchain.compiler, toolchain.facts.compilerVersion, toolchain.facts.buildRoot ?? "host",
            Self.flags.joined(separator: " "),
        ])
        let output = cacheRoot.appendingPathComponent("builds/\(profile.name)/helper-\(key.prefix(16))/dma-harness-helper")
        if FileManager.default.isExecutableFile(atPath: output.path) { return (output, true) }
        return try FileLock.withLock(at: output.deletingLastPathComponent().appendingPathExtension("lock")) {
            if FileManager.default.isExecutableFile(atPath: output.path) { return (output, true) }
            try compile(sources: sources + [uapi], toolchain: toolchain, profile: profile, output: output)
            return (output, false)
        }
    }

    static let flags = ["-static", "-O2", "-Wall"]

    /// Compiles in the output's own folder, from copies of the sources, so a build root sees the
    /// same paths as the host.
    private func compile(sources: [URL], toolchain: Toolchain, profile: ArchProfile, output: URL) throws {
        let folder = output.deletingLastPathComponent()
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var copies: [URL] = []
        for file in sources {
            let copy = folder.appendingPathComponent(file.lastPathComponent)
            try FileManager.default.copyItem(at: file, to: copy)
            copies.append(copy)
        }
        let outcome = try toolchain.run(
            toolchain.compiler, Self.flags + ["-I", folder.path, "-o", output.path] + copies.filter { $0.pathExtension == "c" }.map(\.path),
            cacheRoot: cacheRoot)
        guard outcome.succeeded else {
            try? FileManager.default.removeItem(at: output)
            let libc = toolchain.facts.buildRoot == nil ? " (a static libc is needed: the libc6-dev package of the guest's arch)" : ""
            throw HarnessError.infrastructure("guest helper build for \(profile.name) failed: \(outcome.tail(lines: 2))\(libc)")
        }
    }
}
