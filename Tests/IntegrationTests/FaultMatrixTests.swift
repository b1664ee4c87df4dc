import Foundation
import Testing
@testable import HarnessCore

extension Integration {
/// The fault matrix: each fault a guest, the host or the user can throw at a run, with the target
/// status, exit code and artifacts it must end in, and the same leftovers check after every one.
/// Faults inside the guest come from the real module's `fault=KIND@WHERE` parameter on the real
/// kernel (harness/PROTOCOL.md, "Module parameters").
@Suite("Fault matrix")
struct FaultMatrixTests {
    /// What a fault must end in.
    struct Expected {
        var statuses: Set<TargetStatus>
        var exitCodes: Set<HarnessCore.ExitStatus>
        /// Files that must be in the target's folder.
        var kept: [String]
        /// Words the target's reason must contain.
        var reasonMentions: [String] = []
    }

    static let arch = "arm64"
    static var targetID: String { "\(arch)-direct" }

    /// Runs `harness run --arch arm64` with `arguments`, checks `expected`, and checks that nothing
    /// is left behind. Returns the target's report for fault-specific checks.
    @discardableResult
    func runFault(_ arguments: [String], expected: Expected, cache: URL = RunOptions.defaultCacheRoot,
                  wrapper: [String] = [], onStart: ((Process, LiveText, URL) -> Void)? = nil,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> (TargetReport, HarnessProcess.Result, URL) {
        let out = HarnessProcess.scratchFolder("fault")
        let cacheArguments = cache == RunOptions.defaultCacheRoot ? [] : ["--cache-dir", cache.path]
        let result = try HarnessProcess.run(["run", "--arch", Self.arch, "--out", out.path] + cacheArguments + arguments,
                                            wrapper: wrapper, onStart: onStart.map { body in { body($0, $1, out) } })
        #expect(expected.exitCodes.map(\.rawValue).contains(result.exitCode), "stderr: \(result.standardError.suffix(600))",
                sourceLocation: sourceLocation)
        let target = try #require(try HarnessProcess.report(in: out).targets.first, sourceLocation: sourceLocation)
        #expect(expected.statuses.contains(target.status), "\(target.status): \(target.reason ?? "")", sourceLocation: sourceLocation)
        for word in expected.reasonMentions {
            #expect(target.reason?.contains(word) == true, "reason: \(target.reason ?? "nil")", sourceLocation: sourceLocation)
        }
        for file in expected.kept {
            let path = out.appendingPathComponent("\(target.id)/\(file)").path
            #expect(FileManager.default.fileExists(atPath: path), "kept \(file)", sourceLocation: sourceLocation)
        }
        let leftovers = Leftovers(of: result, out: out, cacheRoot: cache).found()
        #expect(leftovers.isEmpty, "\(leftovers)", sourceLocation: sourceLocation)
        return (target, result, out)
    }

    /// A run the fault did not touch ends in the kernel's own verdict, whichever it is.
    static let kernelVerdict: Set<TargetStatus> = [.passed, .failed]
    static let kernelVerdictExit: Set<HarnessCore.ExitStatus> = [.passed, .failures]

    static let bootArtifacts = ["console.log", "qemu.log", "domain.xml", "module-build.log"]

    @Test("1. a panic mid-suite: crashed, the tests before it, the rest not run")
    func panic() throws {
        let (target, _, out) = try runFault(["--kernel-arg", "dma_harness.fault=panic@dma_alloc.none_4096"],
                                            expected: Expected(statuses: [.crashed], exitCodes: [.failures], kept: Self.bootArtifacts,
                                                               reasonMentions: ["Kernel panic"]))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.boot?.ending == .panicked)
        #expect(target.findings.contains { $0.kind == .panic })
        let alloc = try #require(target.suites.first { $0.name == "dma_alloc" })
        #expect(alloc.tests.first { $0.name == "none_1" }?.status == .pass, "the tests before the panic are reported")
        #expect(alloc.tests.filter { $0.name == "none_4096" }.allSatisfy { $0.status == .notRun }, "the test the panic hit is not reported")
        #expect(alloc.tests.contains { $0.status == .notRun })
        #expect(target.suites.filter { $0.name == "dma_edu" }.allSatisfy { $0.tests.allSatisfy { $0.status == .notRun } })
    }

    @Test("2. an Oops mid-suite: crashed, even though the Oops leaves power-off hanging")
    func oops() throws {
        let (target, _, out) = try runFault(["--kernel-arg", "dma_harness.fault=oops@dma_alloc.none_4096"],
                                            expected: Expected(statuses: [.crashed], exitCodes: [.failures], kept: Self.bootArtifacts,
                                                               reasonMentions: ["Oops"]))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.findings.contains { $0.kind == .oops })
        // The Oops kills insmod in the PCI probe with the device lock held: power-off then blocks on it.
        #expect(target.boot?.ending == .timedOut)
        #expect((target.boot?.guestSeconds ?? 999) < 120, "stopped by the power-off grace, not the 300 s timeout")
    }

    @Test("3. a hang mid-suite: timed out at --timeout")
    func hang() throws {
        let (target, _, out) = try runFault(["--timeout", "30", "--kernel-arg", "dma_harness.fault=hang@dma_alloc.none_4096"],
                                            expected: Expected(statuses: [.timedOut], exitCodes: [.failures], kept: Self.bootArtifacts,
                                                               reasonMentions: ["hung"]))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.boot?.ending == .timedOut)
        #expect(!target.ktapComplete)
    }

    @Test("4. a WARN storm: the test it hit fails with every warning counted; the suite goes on")
    func warnStorm() throws {
        let (target, _, out) = try runFault(["--kernel-arg", "dma_harness.fault=warn@dma_alloc.none_4096"],
                                            expected: Expected(statuses: [.failed], exitCodes: [.failures], kept: Self.bootArtifacts))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.ktapComplete && target.boot?.ending == .poweredOff)
        let hit = try #require(target.suites.flatMap(\.tests).first { $0.id == "dma_alloc.none_4096" })
        #expect(hit.status == .fail)
        #expect(hit.observed["reason"]?.split(separator: "+").contains("warn_taint") == true)
        #expect(Int(hit.observed["warnings"] ?? "") ?? 0 >= 32, "\(hit.observed)")
        #expect(target.findings.filter { $0.kind == .warning }.count >= 32)
    }

    @Test("5. a kernel that never boots: timed out, said so, console kept (empty)")
    func neverBoots() throws {
        let image = try Integration.BadInputTests.cachedImage(Self.arch)
        // A real arm64 Image whose first instruction is undefined: QEMU loads it, the CPU traps at once.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: image.kernelImage))
        bytes.replaceSubrange(0..<8, with: [UInt8](repeating: 0, count: 8))
        let kernel = HarnessProcess.scratchFolder("nonboot-Image")
        try bytes.write(to: kernel)
        defer { try? FileManager.default.removeItem(at: kernel) }
        let (target, _, out) = try runFault(["--timeout", "20", "--kernel", kernel.path, "--kbuild", image.kbuildDirectory],
                                            expected: Expected(statuses: [.timedOut], exitCodes: [.failures],
                                                               kept: ["console.log", "domain.xml"],
                                                               reasonMentions: ["never booted"]))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.suites.flatMap(\.tests).isEmpty)
    }

    @Test("6. QEMU killed from outside mid-run: a host error (exit 3), never a kernel verdict")
    func qemuKilled() throws {
        let (target, _, out) = try runFault([], expected: Expected(statuses: [.error], exitCodes: [.infrastructure],
                                                                   kept: ["console.log", "domain.xml"],
                                                                   reasonMentions: ["QEMU ended"])) { process, _, out in
            // Once the suite has started, SIGKILL the target's QEMU as an OOM killer would.
            let pattern = "guest=\(HostConnection.domainPrefix)\(process.processIdentifier)-"
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, process.isRunning {
                if let pid = Self.processes(matching: pattern).first, Self.consoleHasSuiteStart(in: out) {
                    kill(pid, SIGKILL)
                    return
                }
                usleep(50_000)
            }
        }
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.errorKind == .infrastructure)
        #expect(target.boot?.ending == .stoppedUnexpectedly)
    }

    @Test("7a. SIGINT during provision (cold cache): interrupted, no image or partial download cached")
    func interruptDuringProvision() throws {
        let cache = HarnessProcess.scratchFolder("cold-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let (target, _, out) = try runFault([], expected: Expected(statuses: [.interrupted], exitCodes: [.interrupted], kept: []),
                                            cache: cache) { process, stderr, _ in
            _ = stderr.wait(for: "\(Self.targetID): provision", until: Date().addingTimeInterval(60)) { process.isRunning }
            // Into the download: the package lists, then the .debs.
            _ = Self.waitForFile(named: ".deb", orFolder: DebianArchive.downloadFolderPrefix, under: cache,
                                 until: Date().addingTimeInterval(120)) { process.isRunning }
            kill(-process.processIdentifier, SIGINT)
        }
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.failedStage == .provision || target.stages.last?.stage == .provision)
        #expect(!FileManager.default.fileExists(atPath: cache.appendingPathComponent("images/bookworm/\(Self.arch)/manifest.json").path))
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("debs/bookworm/arm64").path)) ?? []
        for deb in debs where deb.hasSuffix(".deb") {
            // Whatever is there under its final name was verified: it matches some index entry's size at least.
            #expect((try? FileManager.default.attributesOfItem(atPath: cache.appendingPathComponent("debs/bookworm/arm64/\(deb)").path)[.size] as? Int) ?? 0 > 0)
        }
    }

    @Test("7b. SIGTERM during the module build: interrupted, no half-built module cached")
    func terminateDuringBuild() throws {
        let cache = try Self.cacheSharingImages()
        defer { try? FileManager.default.removeItem(at: cache) }
        let (target, _, out) = try runFault([], expected: Expected(statuses: [.interrupted], exitCodes: [.interrupted], kept: []),
                                            cache: cache) { process, stderr, _ in
            _ = stderr.wait(for: "\(Self.targetID): build", until: Date().addingTimeInterval(60)) { process.isRunning }
            _ = Self.waitForFile(named: ".o", orFolder: ".never", under: cache.appendingPathComponent("builds"),
                                 until: Date().addingTimeInterval(60)) { process.isRunning }
            kill(-process.processIdentifier, SIGTERM)
        }
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.stages.contains { $0.stage == .build })
        let modules = Self.files(under: cache.appendingPathComponent("builds")).filter { $0.hasSuffix("dma_harness.ko") }
        #expect(modules.isEmpty, "no module cached from an interrupted build: \(modules)")
    }

    @Test("7c. SIGINT twice during boot: one clean stop, partial report, domain destroyed")
    func interruptTwiceDuringBoot() throws {
        let (target, result, out) = try runFault([], expected: Expected(statuses: [.interrupted], exitCodes: [.interrupted],
                                                                        kept: ["console.log", "domain.xml"]),
                                                 onStart: { process, _, out in
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, process.isRunning, !Self.consoleHasSuiteStart(in: out) {
                usleep(20_000)
            }
            kill(-process.processIdentifier, SIGINT)
            usleep(200_000)
            kill(-process.processIdentifier, SIGINT)
        })
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try HarnessProcess.report(in: out).run.interruption != nil)
        #expect(target.boot?.ending == .interrupted)
        #expect(result.standardError.contains("interrupted"))
        #expect(result.standardError.contains("already stopping"), "the second Ctrl-C is acknowledged, not acted on")
    }

    @Test("8. --out on a full file system: a host error naming --out, not a kernel verdict")
    func outOnFullFileSystem() throws {
        try Self.withTmpfs(size: "96k") { mount in
            let out = mount.appendingPathComponent("out")
            let result = try HarnessProcess.run(["run", "--arch", Self.arch, "--out", out.path])
            #expect(result.exitCode == ExitStatus.infrastructure.rawValue, "stderr: \(result.standardError.suffix(400))")
            let line = result.standardError.split(separator: "\n").last { $0.hasPrefix("harness: ") } ?? ""
            #expect(line.contains("--out") && line.contains("space"), "\(line)")
            #expect(!result.standardError.contains("Fatal error"))
            #expect(Leftovers(of: result, out: out).found().isEmpty)
        }
    }

    @Test("9. the cache on a full file system, a download cut halfway: nothing corrupt cached; the next run fetches again")
    func cacheOnFullFileSystem() throws {
        // The package lists fit and are complete, and little more: the kernel's .deb is then cut
        // halfway. (A fixed size let the lists themselves fill the disk once the archive grew.)
        let lists = try Self.completeListFolders()
        let listBytes = lists.reduce(0) { $0 + DiskSpace.usedBytes(under: $1) }
        try Self.withTmpfs(size: "\((listBytes >> 20) + 24)m") { mount in
            let cache = mount.appendingPathComponent("cache")
            for folder in lists {
                let copy = cache.appendingPathComponent("apt/bookworm/\(folder.lastPathComponent)")
                try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: folder, to: copy)
            }
            let (first, _, out) = try runFault([], expected: Expected(statuses: [.error], exitCodes: [.infrastructure], kept: [],
                                                                      reasonMentions: ["nothing was cached"]), cache: cache)
            try? FileManager.default.removeItem(at: out)
            #expect(first.failedStage == .provision)
            #expect(!FileManager.default.fileExists(atPath: cache.appendingPathComponent("images/bookworm/\(Self.arch)/manifest.json").path))
            // Every .deb under its final name matches the archive's sha256 (the provision check would refetch otherwise).
            try Self.expectVerifiedDebs(in: cache)

            try Subprocess.checked("mount", ["-o", "remount,size=900m", mount.path])
            let (second, _, out2) = try runFault([], expected: Expected(statuses: Self.kernelVerdict, exitCodes: Self.kernelVerdictExit,
                                                                        kept: Self.bootArtifacts), cache: cache)
            try? FileManager.default.removeItem(at: out2)
            #expect(second.stages.first { $0.stage == .provision }?.detail == "fetched")
            try Self.expectVerifiedDebs(in: cache)
        }
    }

    @Test("9b. the package lists on a full disk: refused before apt-get update, which waits on a full disk instead of failing")
    func listsOnFullFileSystem() throws {
        try Self.withTmpfs(size: "16m") { mount in
            let cache = mount.appendingPathComponent("cache")
            let (target, _, out) = try runFault([], expected: Expected(statuses: [.error], exitCodes: [.infrastructure], kept: [],
                                                                       reasonMentions: ["package lists", "MiB free", "nothing was cached"]),
                                                cache: cache)
            try? FileManager.default.removeItem(at: out)
            #expect(target.failedStage == .provision)
            let lists = cache.appendingPathComponent("apt/bookworm/\(Self.arch)")
            #expect(!FileManager.default.fileExists(atPath: lists.appendingPathComponent("lists.complete").path))
        }
    }

    @Test("10. a cached .deb whose sha256 no longer matches is fetched again, never used")
    func corruptCachedDeb() throws {
        let cache = try Self.cacheSharingImages(copyDebs: true, withoutImages: true)
        defer { try? FileManager.default.removeItem(at: cache) }
        let debs = cache.appendingPathComponent("debs/bookworm/arm64")
        let busybox = try #require(try FileManager.default.contentsOfDirectory(atPath: debs.path).first { $0.hasPrefix("busybox-static_") })
        let file = debs.appendingPathComponent(busybox)
        let handle = try FileHandle(forWritingTo: file)
        try handle.seek(toOffset: 4096)
        handle.write(Data("corrupted by the fault matrix".utf8))
        try handle.close()
        let (target, result, out) = try runFault(["--verbose"], expected: Expected(statuses: Self.kernelVerdict, exitCodes: Self.kernelVerdictExit,
                                                                                   kept: Self.bootArtifacts), cache: cache)
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(result.standardError.contains("does not match the archive's sha256; fetching it again"))
        guard case .debian(let packages, _)? = target.kernel?.provenance,
              let entry = packages.first(where: { $0.name == "busybox-static" }) else {
            Issue.record("no busybox provenance")
            return
        }
        #expect(try FileDigest.sha256(of: file) == entry.sha256)
    }

    @Test("11. a kernel of the wrong arch: refused before booting (exit 2), nothing left")
    func wrongArchKernel() throws {
        let x86 = try Integration.BadInputTests.cachedImage("x86_64")
        let arm64 = try Integration.BadInputTests.cachedImage(Self.arch)
        let (target, result, out) = try runFault(["--kernel", x86.kernelImage, "--kbuild", arm64.kbuildDirectory],
                                                 expected: Expected(statuses: [.error], exitCodes: [.usage], kept: []))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.failedStage == .provision)
        #expect(result.standardError.contains("ARM64"), "\(result.standardError)")
    }

    @Test("12. a module that fails to load (vermagic): the kernel's own message is in the report")
    func vermagicMismatch() throws {
        // The host checks the release; Debian's kernels (MODVERSIONS) check the rest of vermagic in
        // the guest only. A copy of the real tree that claims a preemptible build plays a tree that
        // is not the kernel's: same release, one vermagic word more.
        let image = try Integration.BadInputTests.cachedImage(Self.arch)
        let tree = HarnessProcess.scratchFolder("kbuild-preempt")
        // -L: Debian's header tree links `scripts` and `tools` relatively into linux-kbuild-*,
        // links that a copy elsewhere would break (make then finds no scripts/basic/fixdep).
        try Subprocess.checked("cp", ["-aL", image.kbuildDirectory, tree.path])
        defer { try? FileManager.default.removeItem(at: tree) }
        let autoconf = tree.appendingPathComponent("include/generated/autoconf.h")
        let config = try String(contentsOf: autoconf, encoding: .utf8)
        try #require(!config.contains("CONFIG_PREEMPT_BUILD"), "the Debian kernel is not preemptible")
        try (config + "#define CONFIG_PREEMPT_BUILD 1\n").write(to: autoconf, atomically: true, encoding: .utf8)
        let (target, _, out) = try runFault(["--kernel", image.kernelImage, "--kbuild", tree.path],
                                            expected: Expected(statuses: [.error], exitCodes: [.usage], kept: Self.bootArtifacts,
                                                               reasonMentions: ["version magic", "preempt"]))
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.errorKind == .usage)
        #expect(target.kernel?.moduleVermagic?.contains("preempt") == true)
    }

    @Test("13a. the archive unreachable with a warm cache: the run works offline")
    func offlineWarmCache() throws {
        _ = try Integration.BadInputTests.cachedImage(Self.arch)
        let (target, _, out) = try runFault([], expected: Expected(statuses: Self.kernelVerdict, exitCodes: Self.kernelVerdictExit, kept: Self.bootArtifacts),
                                            wrapper: ["/usr/bin/unshare", "--net"])
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.stages.first { $0.stage == .provision }?.detail == "cached")
        #expect(target.ktapComplete)
    }

    @Test("13b. the archive unreachable with a cold cache: exit 3, naming what could not be fetched")
    func offlineColdCache() throws {
        let cache = HarnessProcess.scratchFolder("cold-offline")
        defer { try? FileManager.default.removeItem(at: cache) }
        let (target, result, out) = try runFault([], expected: Expected(statuses: [.error], exitCodes: [.infrastructure], kept: [],
                                                                        reasonMentions: ["Debian's archive", "arm64"]),
                                                 cache: cache, wrapper: ["/usr/bin/unshare", "--net"])
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(target.failedStage == .provision)
        #expect(result.standardError.contains("harness: \(Self.targetID): cannot reach Debian's archive"))
    }

    @Test("14. two runs at once: the second gets a private libvirt root; both clean up")
    func concurrentRuns() throws {
        let outs = [HarnessProcess.scratchFolder("concurrent-a"), HarnessProcess.scratchFolder("concurrent-b")]
        defer { for folder in outs { try? FileManager.default.removeItem(at: folder) } }
        let results = LockedResults()
        let group = DispatchGroup()
        for out in outs {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                // Both start at once: the claim on the shared root must arbitrate, not timing.
                results.append(Result { try HarnessProcess.run(["run", "--arch", Self.arch, "--out", out.path]) })
            }
        }
        group.wait()
        let finished = try results.all.map { try $0.get() }
        #expect(finished.count == 2)
        for result in finished { #expect([0, 1].contains(result.exitCode), "stderr: \(result.standardError)") }
        let reports = try outs.map(HarnessProcess.report(in:))
        #expect(Set(reports.map(\.run.libvirtURI)).count == 2, "one shared root, one private")
        for report in reports { #expect(report.targets.first?.boot?.ending == .poweredOff) }
        for (result, out) in zip(finished, outs) {
            // Results arrive in either order; each leftover check looks at every folder.
            let leftovers = outs.flatMap { Leftovers(of: result, out: $0).found() }
            #expect(leftovers.isEmpty, "\(leftovers) (\(out.lastPathComponent))")
        }
    }
}
}

// MARK: - What the faults need

enum ArchNames {
    /// Every arch with a profile in images/profiles and a kernel on the default Debian line.
    static func all() throws -> [String] {
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        return catalog.names.filter { catalog.unavailability(arch: $0, suite: catalog.suites.default) == nil }
    }
}

extension Integration.FaultMatrixTests {
    static func processes(matching needle: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(needle) ? pid : nil
        }
    }

    /// True once the target's console in `out` shows the suite running.
    static func consoleHasSuiteStart(in out: URL) -> Bool {
        let console = out.appendingPathComponent("\(targetID)/console.log")
        guard let data = FileManager.default.contents(atPath: console.path) else { return false }
        return String(decoding: data, as: UTF8.self).contains("# Subtest: dma_alloc")
    }

    static func files(under folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? []
    }

    /// Waits until a file ending in `suffix` or a folder starting with `prefix` appears under `folder`.
    static func waitForFile(named suffix: String, orFolder prefix: String, under folder: URL, until deadline: Date,
                            while running: () -> Bool) -> Bool {
        while Date() < deadline, running() {
            if files(under: folder).contains(where: { $0.hasSuffix(suffix) || ($0 as NSString).lastPathComponent.hasPrefix(prefix) }) {
                return true
            }
            usleep(20_000)
        }
        return false
    }

    /// A fresh cache whose package lists and images are the default cache's (links), so that a run
    /// skips the download; `copyDebs` gives it its own copies of the arch's .debs instead,
    /// `withoutImages` makes it extract them again, and `shareBuilds` reuses the built modules.
    /// Its libvirt root is always new (no QEMU capabilities cache).
    static func cacheSharingImages(copyDebs: Bool = false, withoutImages: Bool = false, shareBuilds: Bool = false) throws -> URL {
        for name in try ArchNames.all() { _ = try Integration.BadInputTests.cachedImage(name) }
        let shared = RunOptions.defaultCacheRoot
        let cache = HarnessProcess.scratchFolder("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("apt"),
                                                   withDestinationURL: shared.appendingPathComponent("apt"))
        if !withoutImages {
            try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("images"),
                                                       withDestinationURL: shared.appendingPathComponent("images"))
        }
        if shareBuilds {
            try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("builds"),
                                                       withDestinationURL: shared.appendingPathComponent("builds"))
        }
        if copyDebs {
            try FileManager.default.createDirectory(at: cache.appendingPathComponent("debs"), withIntermediateDirectories: true)
            // The default line's .debs: the guest's and the build host's (kbuild).
            try FileManager.default.copyItem(at: shared.appendingPathComponent("debs/bookworm"),
                                             to: cache.appendingPathComponent("debs/bookworm"))
        } else {
            try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("debs"),
                                                       withDestinationURL: shared.appendingPathComponent("debs"))
        }
        return cache
    }

    /// Runs `body` with a tmpfs of `size` mounted on a fresh folder, unmounted after.
    static func withTmpfs(size: String, _ body: (URL) throws -> Void) throws {
        let mount = HarnessProcess.scratchFolder("tmpfs")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try Subprocess.checked("mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mount.path])
        defer {
            _ = try? Subprocess.run("umount", [mount.path])
            try? FileManager.default.removeItem(at: mount)
        }
        try body(mount)
    }

    /// The default cache's complete bookworm lists for arm64 and the build host's arch, fetched
    /// by the harness's own update when they are not complete yet (`<cache>/apt/bookworm/<arch>`).
    static func completeListFolders() throws -> [URL] {
        let bookworm = try SuiteCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot)).suite(named: "bookworm")
        return try Set(["arm64", HostPlatform.debianArch]).sorted().map { arch in
            let archive = DebianArchive(suite: bookworm, debianArch: arch, cacheRoot: RunOptions.defaultCacheRoot, logger: .init(label: "test"))
            try archive.updateIfNeeded(refresh: false)
            try #require(archive.hasCompleteLists, "apt-get update for bookworm/\(arch) fetched every index")
            return archive.listsDirectory.deletingLastPathComponent()
        }
    }

    /// Every .deb in the cache is one the archive's index vouches for.
    static func expectVerifiedDebs(in cache: URL) throws {
        let bookworm = try SuiteCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot)).suite(named: "bookworm")
        let archive = DebianArchive(suite: bookworm, debianArch: "arm64", cacheRoot: RunOptions.defaultCacheRoot, logger: .init(label: "test"))
        let folder = cache.appendingPathComponent("debs/bookworm/arm64")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            #expect(name.hasSuffix(".deb"), "only verified .debs under final names: \(name)")
            guard name.hasSuffix(".deb"), let package = name.split(separator: "_").first else { continue }
            let entry = try archive.describe(String(package))
            #expect(try FileDigest.sha256(of: folder.appendingPathComponent(name)) == entry.sha256, "\(name)")
        }
    }
}
