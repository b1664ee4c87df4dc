import Foundation
import Logging

/// One Debian suite's archive for one foreign or native architecture, through apt with a private
/// sources list, list directory and package cache: no multiarch set-up of the host is needed, and
/// the host's own apt configuration is neither read nor changed (FIELD-NOTES, "Guest kernels from
/// Debian", "Kernel lines beyond Debian 12").
public struct DebianArchive: Sendable {
    public var suite: DebianSuite
    public var debianArch: String
    /// Where this suite's and arch's package lists live (`<cache>/apt/<suite>/<arch>/lists`).
    public var listsDirectory: URL
    /// The private sources list, written from the suite's data before each update.
    var sourcesFile: URL
    var packageCache: URL
    var logger: Logger

    public init(suite: DebianSuite, debianArch: String, cacheRoot: URL, logger: Logger) {
        self.suite = suite
        self.debianArch = debianArch
        let folder = cacheRoot.appendingPathComponent("apt/\(suite.name)/\(debianArch)")
        self.listsDirectory = folder.appendingPathComponent("lists")
        self.sourcesFile = folder.appendingPathComponent("sources.list")
        self.packageCache = folder.appendingPathComponent("cache")
        self.logger = logger
    }

    /// `<suite>/<dpkg arch>`, for messages.
    var label: String { "\(suite.name)/\(debianArch)" }

    private var aptOptions: [String] {
        [
            "-q",
            "-oAPT::Architecture=\(debianArch)",
            "-oAPT::Architectures=\(debianArch)",
            "-oDir::Etc::SourceList=\(sourcesFile.path)",
            "-oDir::Etc::SourceParts=/dev/null",
            "-oDir::Etc::Preferences=/dev/null",
            "-oDir::Etc::PreferencesParts=/dev/null",
            "-oDir::Cache=\(packageCache.path)",
            // No binary caches on disk: apt builds them in memory, so a full cache file system
            // still lets packages resolve (and the download that needs the space fails cleanly).
            "-oDir::Cache::pkgcache=",
            "-oDir::Cache::srcpkgcache=",
            "-oDir::State::Lists=\(listsDirectory.path)",
            "-oDir::State::status=/dev/null",
            "-oAPT::Sandbox::User=root",
            "-oDebug::NoLocking=1",
        ] + suite.aptCommandLineOptions
    }

    /// Fetches this suite's and arch's package lists when there are none yet, or always with
    /// `refresh`. Targets of several arches share the build host's lists, and two runs may share
    /// a cache, so one update at a time per lists folder: apt's `Debug::NoLocking` is set (the
    /// host's apt lock is not ours to take), and two updates in one folder break each other.
    public func updateIfNeeded(refresh: Bool) throws {
        if !refresh && hasCompleteLists { return }
        try FileLock.withLock(at: listsDirectory.appendingPathExtension("lock")) {
            if !refresh && hasCompleteLists { return }
            try update()
        }
    }

    /// Written beside the lists once an update fetched every index: lists without it (an update
    /// that a full disk or a mirror mid-sync cut short) are fetched again by the next run.
    var completeMarker: URL { listsDirectory.deletingLastPathComponent().appendingPathComponent("lists.complete") }
    public var hasCompleteLists: Bool { FileManager.default.fileExists(atPath: completeMarker.path) }

    /// What apt needs free to fetch one arch's lists: bookworm's are 19 MiB as stored, and apt
    /// holds the downloaded index beside the one it unpacks. On a full disk apt-get update does
    /// not fail but waits (over 10 minutes seen), so the space is checked first.
    static let listsFreeSpaceNeeded: UInt64 = 64 << 20

    /// Refreshes this arch's package lists. A partly failed update (a mirror mid-sync) is only a
    /// warning: what matters is whether the packages then resolve, and the next run tries again.
    func update() throws {
        try FileManager.default.createDirectory(
            at: listsDirectory.appendingPathComponent("partial"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: packageCache.appendingPathComponent("archives/partial"), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: completeMarker)
        let free = DiskSpace.availableBytes(at: listsDirectory)
        if let free, free < Self.listsFreeSpaceNeeded {
            throw listsDoNotFit("\(listsDirectory.path) has \(free >> 20) MiB free and apt needs about \(Self.listsFreeSpaceNeeded >> 20) MiB")
        }
        try (suite.sources.joined(separator: "\n") + "\n").write(to: sourcesFile, atomically: true, encoding: .utf8)
        let outcome = try Subprocess.run("apt-get", aptOptions + ["update"])
        let said = outcome.standardOutput + outcome.standardError
        if said.contains("No space left on device") {
            // Lists cut short by the disk would resolve some packages and not others.
            try? FileManager.default.removeItem(at: listsDirectory)
            throw listsDoNotFit("the file system of \(listsDirectory.path) is full")
        }
        // apt-get update exits 0 even when every index failed to download: what counts is the lists.
        if !hasLists {
            throw HarnessError.infrastructure(
                "cannot reach Debian's archive for the \(label) package lists (apt-get update: \(outcome.tail(lines: 1))); the cache has none yet, so this arch needs the network once")
        }
        let failedIndexes = said.split(separator: "\n").contains { $0.hasPrefix("Err:") || $0.hasPrefix("E:") || $0.hasPrefix("W:") }
        if !outcome.succeeded || failedIndexes {
            logger.warning("apt-get update for \(label) reported errors; continuing with the lists it has, and the next run fetches them again",
                           metadata: ["detail": "\(outcome.tail(lines: 2))"])
            return
        }
        try Data().write(to: completeMarker)
    }

    private func listsDoNotFit(_ why: String) -> HarnessError {
        .infrastructure("cannot fetch the \(label) package lists: \(why); nothing was cached, run again when it has \(Self.listsFreeSpaceNeeded >> 20) MiB free (or pass --cache-dir elsewhere)")
    }

    /// Some lists exist, so resolution can run without the network.
    public var hasLists: Bool {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: listsDirectory.path)) ?? []
        // apt keeps the indexes compressed as it fetched them (`..._Packages.lz4` on bookworm).
        return files.contains { name in
            ["", ".lz4", ".gz", ".xz", ".zst"].contains { name.hasSuffix("_Packages" + $0) }
        }
    }

    /// The packages `name` depends on (names only), as `apt-cache depends` lists them.
    public func dependencies(of name: String) throws -> [String] {
        let outcome = try Subprocess.run("apt-cache", aptOptions + ["depends", name])
        guard outcome.succeeded else {
            throw HarnessError.infrastructure(
                "cannot resolve Debian package \(name) in \(label): \(outcome.tail(lines: 1)); try `harness images fetch --refresh`")
        }
        return outcome.standardOutput.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("Depends: ") else { return nil }
            // `<name>` is a virtual package: apt installs its provider when asked for the name.
            return String(trimmed.dropFirst("Depends: ".count)).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        }
    }

    /// The index entry of the candidate version of `name`.
    public func describe(_ name: String) throws -> DebianPackage {
        let outcome = try Subprocess.run("apt-cache", aptOptions + ["show", "--no-all-versions", name])
        guard outcome.succeeded, !outcome.standardOutput.isEmpty else {
            let detail = outcome.standardError.isEmpty ? "" : " (apt-cache: \(outcome.tail(lines: 1)))"
            throw HarnessError.infrastructure("Debian package \(name) is not in the \(label) archive index\(detail)")
        }
        var fields: [String: String] = [:]
        for line in outcome.standardOutput.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" ") else { continue }
            let key = String(line[..<colon])
            if fields[key] == nil {
                fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        guard let version = fields["Version"], let path = fields["Filename"],
              let sha = fields["SHA256"], let size = fields["Size"].flatMap(Int.init)
        else {
            throw HarnessError.infrastructure("the archive index entry of \(name) lacks Version/Filename/SHA256/Size")
        }
        return DebianPackage(
            name: name, version: version, architecture: fields["Architecture"] ?? debianArch,
            fileName: (path as NSString).lastPathComponent, size: size, sha256: sha)
    }

    /// Partial downloads live in `<directory>/.download-<pid>-<uuid>` until verified.
    public static let downloadFolderPrefix = ".download-"

    /// Downloads `package` into `directory` unless a verified copy is already there; returns its path.
    /// The file appears under its final name only once its sha256 matches the archive's index, so
    /// a download cut halfway (a full disk, a lost network, Ctrl-C) never leaves a cache entry.
    public func download(_ package: DebianPackage, into directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // apt-get download names the file after the version, with an epoch's colon escaped.
        let localName = "\(package.name)_\(package.version.replacingOccurrences(of: ":", with: "%3a"))_\(package.architecture).deb"
        let file = directory.appendingPathComponent(localName)
        if FileManager.default.fileExists(atPath: file.path) {
            if (try? FileDigest.sha256(of: file)) == package.sha256 { return file }
            logger.warning("cached \(localName) does not match the archive's sha256; fetching it again")
            try? FileManager.default.removeItem(at: file)
        }
        let scratch = directory.appendingPathComponent("\(Self.downloadFolderPrefix)\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outcome = try Subprocess.run("apt-get", aptOptions + ["download", "\(package.name)=\(package.version)"],
                                         workingDirectory: scratch)
        guard outcome.succeeded else {
            throw HarnessError.infrastructure(
                "cannot fetch \(package.fileName) from Debian's archive: \(outcome.tail(lines: 1)); nothing was cached, run again when the archive is reachable and \(directory.path) has \(package.size / 1_048_576 + 1) MiB free")
        }
        let fetched = scratch.appendingPathComponent(localName)
        let digest = try FileDigest.sha256(of: fetched)
        guard digest == package.sha256 else {
            throw HarnessError.infrastructure(
                "\(package.fileName): sha256 \(digest) does not match the archive's \(package.sha256); nothing was cached, run again")
        }
        do {
            try FileManager.default.moveItem(at: fetched, to: file)
        } catch where FileManager.default.fileExists(atPath: file.path) {
            // Another run verified and moved the same file first.
        }
        return file
    }
}
