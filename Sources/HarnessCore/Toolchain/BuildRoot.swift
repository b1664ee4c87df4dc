import Foundation
import Logging

/// A minimal root file system of one Debian suite, made with `mmdebstrap` from the archive and
/// holding that suite's compilers, binutils and make. A kernel of another suite is built with
/// tools this host cannot run (trixie's and sid's kbuild binaries need a newer glibc, sid's
/// headers pass flags bookworm's gcc rejects: FIELD-NOTES), so its module is built in here.
///
/// A root is keyed by its suite and the exact packages asked for: a suite whose compiler moves on
/// (sid from gcc-16 to gcc-17) gets a new root, never a changed one. It is made under a temporary
/// name and renamed into place only once its compiler ran inside it, so a half-made root (a
/// failed download, Ctrl-C, a full disk) is never used; the next run makes it again.
public struct BuildRoot: Sendable {
    /// What was asked for and what was measured when the root was made (its `root.json`).
    public struct Manifest: Codable, Sendable {
        public var suite: String
        public var packages: [String]
        public var sources: [String]
        public var createdAt: Date
        /// Wall seconds `mmdebstrap` and the compiler check took.
        public var creationSeconds: Double
        public var sizeBytes: Int
    }

    public var path: URL
    public var manifest: Manifest

    static let manifestName = "root.json"
    static let partialMarker = ".partial-"

    /// The root for `suite` with `packages`, made on first use. `progress` sees mmdebstrap's own
    /// progress lines while a root is made (it takes minutes); reuse is silent.
    public static func ensure(suite: DebianSuite, packages: [String], cacheRoot: URL,
                              verify compiler: String, logger: Logger,
                              progress: @escaping @Sendable (String) -> Void) throws -> BuildRoot {
        let wanted = Array(Set(packages)).sorted()
        let key = try InputKey.digest(files: [], facts: wanted + suite.sources).prefix(12)
        let folder = cacheRoot.appendingPathComponent("buildroots")
        let path = folder.appendingPathComponent("\(suite.name)-\(key)")
        if let root = existing(at: path) { return root }
        return try FileLock.withLock(at: folder.appendingPathComponent("\(suite.name)-\(key).lock")) {
            if let root = existing(at: path) { return root }
            try requireTools()
            removePartials(of: path)
            let partial = URL(fileURLWithPath: path.path + partialMarker + "\(getpid())")
            defer { try? FileManager.default.removeItem(at: partial) }
            let start = Date()
            progress("making the \(suite.name) build root (once; later runs reuse it): \(wanted.joined(separator: " "))")
            let outcome = try Subprocess.run(
                "mmdebstrap",
                ["--mode=root", "--variant=essential", "--include=\(wanted.joined(separator: ","))",
                 "--skip=cleanup/reproducible"] + suite.mmdebstrapOptions
                    + [suite.name, partial.path] + suite.sources,
                onErrorLine: { line in
                    // mmdebstrap's step lines start with "I: "; its apt output is too chatty to relay.
                    if line.hasPrefix("I: ") { progress("\(suite.name) build root: \(line.dropFirst(3))") }
                })
            guard outcome.succeeded else {
                // mmdebstrap's own last words are about its teardown; apt's first error is the cause.
                let cause = outcome.standardError.split(separator: "\n").first { $0.hasPrefix("E: ") }.map(String.init)
                    ?? outcome.tail(lines: 2)
                throw HarnessError.infrastructure(
                    "cannot make the \(suite.name) build root with mmdebstrap: \(cause); nothing was kept, run again when the archive is reachable")
            }
            let check = try BuildRoot(path: partial, manifest: Manifest(
                suite: suite.name, packages: wanted, sources: suite.sources, createdAt: start,
                creationSeconds: 0, sizeBytes: 0)).run(compiler, ["--version"])
            guard check.succeeded else {
                throw HarnessError.infrastructure(
                    "the new \(suite.name) build root has no working \(compiler): \(check.tail(lines: 1))")
            }
            let manifest = Manifest(
                suite: suite.name, packages: wanted, sources: suite.sources, createdAt: start,
                creationSeconds: Date().timeIntervalSince(start), sizeBytes: DiskSpace.usedBytes(under: partial))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(manifest).write(to: partial.appendingPathComponent(manifestName))
            try FileManager.default.moveItem(at: partial, to: path)
            progress(String(format: "%@ build root ready in %.0f s, %d MiB: %@", suite.name, manifest.creationSeconds,
                            manifest.sizeBytes / 1_048_576, path.path))
            logger.info("made build root \(path.path)")
            return BuildRoot(path: path, manifest: manifest)
        }
    }

    /// A complete root: one whose manifest was written, which happens last.
    static func existing(at path: URL) -> BuildRoot? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let data = FileManager.default.contents(atPath: path.appendingPathComponent(manifestName).path),
              let manifest = try? decoder.decode(Manifest.self, from: data) else { return nil }
        return BuildRoot(path: path, manifest: manifest)
    }

    /// Leftovers of a creation that was cut short (this lock's holder is the only creator).
    private static func removePartials(of path: URL) {
        let folder = path.deletingLastPathComponent()
        let prefix = path.lastPathComponent + partialMarker
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    private static func requireTools() throws {
        for (tool, package) in [("mmdebstrap", "mmdebstrap"), ("bwrap", "bubblewrap")] where Subprocess.resolve(tool) == nil {
            throw HarnessError.infrastructure("\(tool) not found: apt-get install \(package) (it makes and enters the build roots of other Debian suites)")
        }
    }

    /// Runs `executable` inside the root. The cache and `workingDirectory` are bound at their own
    /// paths, so a kbuild tree or a module folder has the same path inside as outside; the root
    /// itself is remounted read-only once those mount points exist, so no build can change it.
    public func run(_ executable: String, _ arguments: [String], binding extra: [URL] = [],
                    workingDirectory: URL? = nil) throws -> ProcessOutcome {
        var binds: [String] = []
        for folder in extra + (workingDirectory.map { [$0] } ?? []) {
            binds += ["--bind", folder.path, folder.path]
        }
        let sandbox = ["--bind", path.path, "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                       "--unshare-all", "--die-with-parent", "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"]
            + binds + ["--remount-ro", "/"] + (workingDirectory.map { ["--chdir", $0.path] } ?? [])
        return try Subprocess.run("bwrap", sandbox + [executable] + arguments)
    }
}
