import Foundation
import Testing
@testable import HarnessCore

/// Everything that runs the real `harness` executable. Serialized as a whole: the guests share the
/// host's cores and one libvirt root.
@Suite("Integration", .serialized)
struct Integration {}

extension Integration {
/// Real guests of every supported arch, booted through libvirt's embedded QEMU driver.
@Suite("Real boots")
struct BootTests {
    @Test("every arch x variant boots, runs the suite and reports every attribute")
    func allArchesAllVariants() throws {
        let out = HarnessProcess.scratchFolder("all")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try HarnessProcess.run(["run", "--arch", "all", "--variant", "all", "--out", out.path,
                                             "--timeout", "600"])
        // 0, 1 and 4 are all answers about the kernel; anything else is the harness failing.
        #expect([0, 1, 4].contains(result.exitCode), "stderr: \(result.standardError)")

        let report = try HarnessProcess.report(in: out)
        #expect(report.schemaVersion == RunReport.currentSchemaVersion)
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        let expectedIDs = catalog.names.flatMap { arch in TargetPlanner.knownVariants.map { "\(arch)-\($0)" } }
        #expect(report.targets.map(\.id).sorted() == expectedIDs.sorted())
        #expect(report.run.host.libvirtVersion != nil && report.run.host.qemuVersion != nil)

        for target in report.targets where target.status == .unsupported && !target.suites.isEmpty {
            // Booted, then found not to be what the variant means: a noncoherent variant whose
            // device the guest's kernel reports coherent, or a swiotlb variant without swiotlb.
            let discovery = target.suites.first { $0.name == "dma_discovery" }?.tests.first
            let coherentAnyway = target.variant == "noncoherent" && discovery?.observed["coherent"] == "1"
            let noBounceBuffer = target.variant == "swiotlb" && discovery?.observed["swiotlb"] == "0"
            #expect(coherentAnyway || noBounceBuffer, "\(target.id): \(target.reason ?? "")")
        }
        for target in report.targets where target.status == .unsupported && target.suites.isEmpty {
            try Self.expectDeclaredUnsupported(target, catalog: catalog)
        }
        for target in report.targets where !target.suites.isEmpty {
            try Self.expectConformantBoot(target, out: out)
        }
        // The table on stdout names every target.
        for target in report.targets { #expect(result.standardOutput.contains(target.id)) }
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    /// A target not booted: only a variant the profile declares unsupported, or an arch whose
    /// recipe names no kernel on that line, and it says why.
    static func expectDeclaredUnsupported(_ target: TargetReport, catalog: ArchCatalog) throws {
        let declared = target.suite.flatMap { catalog.unavailability(arch: target.arch, suite: $0) }
            ?? catalog.profiles[target.arch]?.variants[target.variant]?.unsupported
        #expect(declared != nil && target.reason == declared, "\(target.id)")
        #expect(target.suites.isEmpty && target.boot == nil)
    }

    /// A booted target: powered off after a complete suite, every attribute judged from evidence,
    /// real device DMA, provenance and evidence kept.
    static func expectConformantBoot(_ target: TargetReport, out: URL) throws {
        #expect(target.boot?.ending == .poweredOff, "\(target.id): \(target.reason ?? "")")
        #expect(target.ktapComplete, "\(target.id)")
        #expect(!target.findings.contains { $0.kind == .eduClamp }, "\(target.id): QEMU's log is free of edu clamps")
        #expect([.passed, .failed, .unsupported].contains(target.status), "\(target.id): \(target.reason ?? "")")
        #expect(Set(target.stages.map(\.stage)) == Set(StageName.allCases), "\(target.id) timed every stage")
        let discovery = try #require(target.suites.first { $0.name == "dma_discovery" }?.tests.first)
        #expect(discovery.observed["variant"] == target.variant, "the guest ran the variant asked for")
        if target.variant == "iommu" {
            #expect(discovery.observed["ops"] == "iommu", "\(target.id): edu sits behind the IOMMU")
        }

        // Provenance is checkable: the cached .deb matches the sha256 the report names.
        guard case .debian(let packages, _)? = target.kernel?.provenance else {
            Issue.record("\(target.id) has no Debian provenance")
            return
        }
        #expect(packages.contains { $0.name.hasPrefix("linux-image-") })
        #expect(target.kernel?.moduleVermagic?.hasPrefix(target.kernel!.release + " ") == true)

        // Every attribute was exercised and judged from evidence (README, "Verdicts").
        #expect(target.attributes.map(\.attribute) == ConformanceAttributes.columns)
        let vacuous = Set((target.vacuous ?? []).filter(\.wholeTest).flatMap(\.tests))
        for attribute in target.attributes + (target.combinations ?? []) {
            #expect(attribute.verdict != .untested, "\(target.id) \(attribute.attribute)")
            #expect(!attribute.evidence.isEmpty, "\(target.id) \(attribute.attribute)")
            #expect(!attribute.effect.measurement.isEmpty, "\(target.id) \(attribute.attribute) names its measurement")
            #expect(vacuous.isDisjoint(with: attribute.evidence), "\(target.id) \(attribute.attribute) counts a vacuous check")
            // Never violated through inheritance alone: each added check failed in the guest
            // with the attribute and not for the baseline at the same request.
            if attribute.verdict == .violated { #expect(!attribute.added.isEmpty || attribute.ownContract.state == .broken) }
            for added in attribute.added {
                for id in added.baselineTests {
                    let reason = target.allTests.first { $0.id == id }?.observed["reason"] ?? ""
                    #expect(!reason.split(separator: "+").contains(Substring(added.check)), "\(id) fails \(added.check) too")
                }
            }
        }

        // The device really moved data for every attribute the CPU can read (no device DMA in noncoherent).
        let edu = try #require(target.suites.first { $0.name == "dma_edu" }, "\(target.id) ran dma_edu")
        if target.variant == "noncoherent" {
            #expect(edu.status == .skip)
        } else {
            for test in edu.tests where test.status != .skip {
                // A round trip through a coherent buffer, or edu's data seen after a streaming unmap.
                if test.name.hasPrefix("streaming_unmap") {
                    #expect(test.name.hasSuffix("skip_cpu_sync") || test.observed["cpu_sees_device"] == "1", "\(test.id) on \(target.id)")
                } else {
                    #expect(test.observed["roundtrip"] == "1", "\(test.id) on \(target.id)")
                }
                #expect(Int(test.observed["transfer_ns"] ?? "") ?? 0 > 0)
            }
        }
        #expect(discovery.observed["ops"] != nil && discovery.observed["coherent"] != nil)

        // The clock and the kernel file the profile asks for, and the report says which booted.
        let profile = try #require(try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot)).profiles[target.arch])
        #expect(target.clock == profile.defaultClock(variant: target.variant), "\(target.id) ran on its profile's clock")
        let domain = try String(contentsOf: out.appendingPathComponent(target.logs.domainXML ?? "-"), encoding: .utf8)
        #expect(domain.contains("-icount") == (target.clock?.mode == .icount), "\(target.id): the domain carries the clock")
        if let shift = target.clock?.shift { #expect(domain.contains("shift=\(shift),sleep=off"), "\(target.id)") }
        if let boot = profile.uncompressedBoot {
            let unpacked = try #require(target.kernel?.bootImage, "\(target.id) booted the unpacked kernel")
            #expect(domain.contains("<kernel>\(unpacked)</kernel>"))
            // An ELF, or a raw kernel behind a uImage header.
            let magic = boot.elfNote != nil ? Data([0x7F, 0x45, 0x4C, 0x46]) : Data([0x27, 0x05, 0x19, 0x56])
            #expect(FileManager.default.contents(atPath: unpacked)?.prefix(4) == magic, "\(target.id)")
        } else {
            #expect(target.kernel?.bootImage == nil)
        }

        // The evidence stays beside the report.
        let console = try String(contentsOf: out.appendingPathComponent(target.logs.console ?? "-"), encoding: .utf8)
        #expect(console.contains("KTAP version 1") && console.contains("dma-harness: suite end"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(target.logs.qemu ?? "-").path))
    }

    @Test("every arch boots on every other kernel line, its driver built in a root of the kernel's own suite")
    func everyKernelLine() throws {
        let out = HarnessProcess.scratchFolder("lines")
        defer { try? FileManager.default.removeItem(at: out) }
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        let lines = catalog.suites.names.filter { $0 != catalog.suites.default }
        let result = try HarnessProcess.run(["run", "--arch", "all", "--debian"] + lines + ["--out", out.path, "--timeout", "600"])
        #expect([0, 1, 4].contains(result.exitCode), "stderr: \(result.standardError)")

        let report = try HarnessProcess.report(in: out)
        let expectedIDs = lines.flatMap { line in catalog.names.map { "\($0)-direct-\(line)" } }
        #expect(report.targets.map(\.id).sorted() == expectedIDs.sorted())
        let hostLine = SuiteCatalog.hostSuiteName()
        for target in report.targets {
            #expect(target.suite != nil && target.id.hasSuffix("-\(target.suite ?? "")"), "\(target.id) names its line")
            if target.suites.isEmpty {
                try Self.expectDeclaredUnsupported(target, catalog: catalog)
                continue
            }
            try Self.expectConformantBoot(target, out: out)
            let kernel = try #require(target.kernel, "\(target.id)")
            guard case .debian(_, let suite) = kernel.provenance else { continue }
            #expect(suite == target.suite)
            // Built by the compiler generation the kernel names, inside a root of its suite.
            let toolchain = try #require(kernel.toolchain, "\(target.id) records its toolchain")
            #expect(toolchain.place == (target.suite == hostLine ? .host : .buildRoot), "\(target.id)")
            let named = try #require(kernel.config == nil ? nil : toolchain.kernelCompiler, "\(target.id) knows its compiler")
            #expect(Toolchain.gccMajor(named) != nil && toolchain.compiler.hasSuffix("gcc-\(Toolchain.gccMajor(named) ?? "")"))
            #expect(toolchain.matchesKernel != nil)
            #expect(kernel.version.map { kernel.release.hasPrefix(String($0.prefix { $0 != "." })) } == true)
        }
        // One arch across kernel lines: the renderings' view, and compare's.
        let markdown = try HarnessProcess.run(["report", "--format", "markdown", out.appendingPathComponent("report.json").path])
        #expect(markdown.exitCode == 0 && markdown.standardOutput.contains("## What changed between kernel lines"))
        if lines.count >= 2 {
            let compare = try HarnessProcess.run(["compare", "--format", "json", "--base-debian", lines[0], "--new-debian", lines[1],
                                                  out.appendingPathComponent("report.json").path, out.appendingPathComponent("report.json").path])
            #expect([0, 1].contains(compare.exitCode), "\(compare.standardError)")
            let json = try JSONSerialization.jsonObject(with: Data(compare.standardOutput.utf8)) as? [String: Any]
            let changes = (json?["changes"] as? [[String: Any]]) ?? []
            #expect(!changes.contains { ($0["kind"] as? String) == "targetRemoved" }, "every arch is on both lines")
        }
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    @Test("--kernel/--kbuild takes a Debian kernel and its header tree as a pair (the release is utsrelease.h's, not kernel.release's)")
    func debianHeaderTreeAsKbuild() throws {
        let out = HarnessProcess.scratchFolder("pair")
        defer { try? FileManager.default.removeItem(at: out) }
        let image = try BadInputTests.cachedImage("x86_64")
        let upstream = try String(contentsOfFile: image.kbuildDirectory + "/include/config/kernel.release", encoding: .utf8)
        #expect(upstream.trimmingCharacters(in: .whitespacesAndNewlines) != image.kernelRelease, "the tree is a Debian pair")
        let result = try HarnessProcess.run(["run", "--arch", "x86_64", "--out", out.path,
                                             "--kernel", image.kernelImage, "--kbuild", image.kbuildDirectory])
        #expect([0, 1, 4].contains(result.exitCode), "stderr: \(result.standardError)")
        let target = try #require(try HarnessProcess.report(in: out).targets.first)
        #expect(target.id == "x86_64-direct" && target.suite == nil)
        guard case .user(_, let sha256, let kbuild)? = target.kernel?.provenance else {
            Issue.record("no user provenance")
            return
        }
        #expect(sha256 == (try FileDigest.sha256(of: URL(fileURLWithPath: image.kernelImage))) && kbuild == image.kbuildDirectory)
        #expect(target.kernel?.moduleVermagic?.hasPrefix(image.kernelRelease + " ") == true)
        #expect(target.kernel?.toolchain?.place == .host)
        #expect([.passed, .failed].contains(target.status) && target.ktapComplete, "\(target.reason ?? "")")
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    @Test("a kernel built from Debian's linux-source-6.1 (harness/kernels) boots with --kernel/--kbuild: the kernel developer's path")
    func selfBuiltKernel() throws {
        // Built once into the cache (about 7 minutes on 2 cores), reused by later runs.
        let script = HarnessProcess.packageRoot.appendingPathComponent("Tests/Integration/build-test-kernel.sh")
        let build = try Subprocess.run("bash", [script.path, RunOptions.defaultCacheRoot.appendingPathComponent("test-kernels").path])
        #expect(build.succeeded, "\(build.tail(lines: 5))")
        let outputs = Dictionary(build.standardOutput.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }, uniquingKeysWith: { _, last in last })
        let bzImage = try #require(outputs["bzImage"]), tree = try #require(outputs["kbuild"])
        let release = try Subprocess.checked("make", ["-s", "-C", tree, "kernelrelease"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let out = HarnessProcess.scratchFolder("selfbuilt")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try HarnessProcess.run(["run", "--arch", "x86_64", "--out", out.path, "--kernel", bzImage, "--kbuild", tree])
        #expect([0, 1, 4].contains(result.exitCode), "stderr: \(result.standardError)")
        let target = try #require(try HarnessProcess.report(in: out).targets.first)
        #expect(target.kernel?.release == release)
        #expect(target.kernel?.moduleVermagic?.hasPrefix(release + " ") == true)
        #expect(target.kernel?.config?["CONFIG_SWIOTLB"] != nil, "the tree's .config is read")
        guard case .user(let file, _, let kbuild)? = target.kernel?.provenance else {
            Issue.record("no user provenance")
            return
        }
        #expect(file == bzImage && kbuild == tree)
        #expect(target.boot?.ending == .poweredOff && target.ktapComplete, "\(target.reason ?? "")")
        #expect([.passed, .failed].contains(target.status))
        #expect(target.attributes.allSatisfy { $0.verdict != .untested })
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    @Test("DMA outside edu's mask is caught in QEMU's log")
    func eduClamp() throws {
        let out = HarnessProcess.scratchFolder("clamp")
        defer { try? FileManager.default.removeItem(at: out) }
        // edu reaches 28 bits (arm64 RAM starts at 1 GiB), the driver is told 32: every transfer is clamped.
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path, "--edu-dma-bits", "28",
                                             "--kernel-arg", "dma_harness.edu_dma_bits=32"])
        #expect(result.exitCode == ExitStatus.failures.rawValue)
        let target = try #require(try HarnessProcess.report(in: out).targets.first)
        #expect(target.status == .failed)
        #expect(target.findings.contains { $0.kind == .eduClamp && $0.log == "qemu.log" })
        let qemuLog = try String(contentsOf: out.appendingPathComponent("arm64-direct/qemu.log"), encoding: .utf8)
        #expect(qemuLog.contains("EDU: clamping DMA"))
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }


}
}

final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<HarnessProcess.Result, Error>] = []
    func append(_ result: Result<HarnessProcess.Result, Error>) { lock.withLock { results.append(result) } }
    var all: [Result<HarnessProcess.Result, Error>] { lock.withLock { results } }
}
