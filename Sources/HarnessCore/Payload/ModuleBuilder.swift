import Foundation
import Logging

/// The guest driver built for one kernel.
public struct BuiltModule: Sendable {
    public var moduleFile: URL
    /// The `vermagic` string kbuild stamped into the module.
    public var vermagic: String
    /// The build log (kbuild's output), kept for the report.
    public var buildLog: URL
    public var fromCache: Bool
}

/// Builds `harness/module` against a kernel's headers with the toolchain the kernel names (on the
/// host, or inside a build root of the kernel's suite). Each (sources, kernel, toolchain)
/// combination builds once, in its own copy of the sources (kbuild's `clean` removes every `.ko`
/// below M=, so trees are never shared).
public struct ModuleBuilder: Sendable {
    public var cacheRoot: URL
    public var layout: ProjectLayout
    var logger: Logger

    public init(cacheRoot: URL, layout: ProjectLayout, logger: Logger) {
        self.cacheRoot = cacheRoot
        self.layout = layout
        self.logger = logger
    }

    public func build(for image: GuestImage, profile: ArchProfile, toolchain: Toolchain) throws -> BuiltModule {
        let sources = try sourceFiles()
        let key = try InputKey.digest(
            files: sources,
            facts: [profile.name, profile.kbuildArch, toolchain.compiler, toolchain.facts.compilerVersion,
                    toolchain.facts.buildRoot ?? "host", image.kernelRelease, image.kbuildDirectory,
                    Self.identity(ofTree: image.kbuildDirectory)])
        let folder = cacheRoot.appendingPathComponent("builds/\(profile.name)/module-\(key.prefix(16))")
        let moduleFile = folder.appendingPathComponent("dma_harness.ko")
        let log = folder.appendingPathComponent("build.log")
        // Targets sharing a kernel (the variants of one arch) share this build: one builds, the rest wait.
        return try FileLock.withLock(at: folder.appendingPathExtension("lock")) {
            if FileManager.default.fileExists(atPath: moduleFile.path) {
                return BuiltModule(moduleFile: moduleFile, vermagic: try Self.vermagic(of: moduleFile),
                                   buildLog: log, fromCache: true)
            }
            return try compile(sources: sources, into: folder, moduleFile: moduleFile, log: log,
                               image: image, profile: profile, toolchain: toolchain)
        }
    }

    private func compile(sources: [URL], into folder: URL, moduleFile: URL, log: URL,
                         image: GuestImage, profile: ArchProfile, toolchain: Toolchain) throws -> BuiltModule {
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in sources {
            try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(file.lastPathComponent))
        }
        var arguments = ["-C", image.kbuildDirectory, "M=\(folder.path)", "ARCH=\(profile.kbuildArch)", "modules"]
        if !toolchain.crossCompile.isEmpty { arguments.append("CROSS_COMPILE=\(toolchain.crossCompile)") }
        let outcome = try toolchain.run("make", arguments, cacheRoot: cacheRoot)
        try (outcome.commandLine + "\n" + outcome.standardOutput + outcome.standardError)
            .write(to: log, atomically: true, encoding: .utf8)
        guard outcome.succeeded, FileManager.default.fileExists(atPath: moduleFile.path) else {
            let firstError = (outcome.standardError + outcome.standardOutput).split(separator: "\n")
                .first { $0.contains("error") } ?? Substring(outcome.tail(lines: 1))
            // The half-built folder goes; its log stays, one per input key, for the message to name.
            let failedLog = folder.appendingPathExtension("failed.log")
            try? FileManager.default.removeItem(at: failedLog)
            try? FileManager.default.moveItem(at: log, to: failedLog)
            try? FileManager.default.removeItem(at: folder)
            let message = "guest driver build for \(profile.name) failed: \(firstError) (log: \(failedLog.path))"
            throw HarnessError.infrastructure(message)
        }
        let vermagic = try Self.vermagic(of: moduleFile)
        guard vermagic.hasPrefix(image.kernelRelease + " ") else {
            throw HarnessError.usage(
                "the module built in \(image.kbuildDirectory) has vermagic '\(vermagic)', but the kernel is \(image.kernelRelease): --kbuild must be the tree --kernel was built from")
        }
        return BuiltModule(moduleFile: moduleFile, vermagic: vermagic, buildLog: log, fromCache: false)
    }

    private func sourceFiles() throws -> [URL] {
        let files = try FileManager.default.contentsOfDirectory(
            at: layout.moduleSources, includingPropertiesForKeys: nil)
            .filter { ["c", "h"].contains($0.pathExtension) || ["Kbuild", "Makefile"].contains($0.lastPathComponent) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard files.contains(where: { $0.pathExtension == "c" }) else {
            throw HarnessError.usage("no guest driver sources in \(layout.moduleSources.path)")
        }
        return files
    }

    /// What identifies a kbuild tree's content cheaply: its kernel release and config's size and date.
    static func identity(ofTree path: String) -> String {
        let config = URL(fileURLWithPath: path).appendingPathComponent(".config")
        let attributes = try? FileManager.default.attributesOfItem(atPath: config.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(size)@\(Int(date))"
    }

    /// Reads `vermagic=` out of the module's `.modinfo` strings (what `modinfo -F vermagic` prints).
    public static func vermagic(of module: URL) throws -> String {
        let data = try Data(contentsOf: module)
        let marker = Data("vermagic=".utf8)
        guard let range = data.range(of: marker) else {
            throw HarnessError.infrastructure("\(module.path) has no vermagic: not a kernel module")
        }
        let tail = data[range.upperBound...]
        let end = tail.firstIndex(of: 0) ?? tail.endIndex
        return String(decoding: data[range.upperBound..<end], as: UTF8.self)
    }
}
