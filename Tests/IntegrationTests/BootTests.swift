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
        // 0 or 1 are both answers about the kernel; anything else is the harness failing.
        #expect([0, 1].contains(result.exitCode), "stderr: \(result.standardError)")

        let report = try HarnessProcess.report(in: out)
        #expect(report.schemaVersion == RunReport.currentSchemaVersion)
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        let expectedIDs = catalog.names.flatMap { arch in TargetPlanner.knownVariants.map { "\(arch)-\($0)" } }
        #expect(report.targets.map(\.id).sorted() == expectedIDs.sorted())
        #expect(report.run.host.libvirtVersion != nil && report.run.host.qemuVersion != nil)

        for target in report.targets where target.status == .unsupported {
            // Only a variant the profile declares unsupported may be skipped, and it says why.
            let declared = catalog.profiles[target.arch]?.variants[target.variant]?.unsupported
            #expect(declared != nil && target.reason == declared, "\(target.id)")
            #expect(target.suites.isEmpty && target.boot == nil)
        }
        for target in report.targets where target.status != .unsupported {
            #expect(target.boot?.ending == .poweredOff, "\(target.id): \(target.reason ?? "")")
            #expect(target.ktapComplete, "\(target.id)")
            #expect(!target.findings.contains { $0.kind == .eduClamp }, "\(target.id): QEMU's log is free of edu clamps")
            #expect([.passed, .failed].contains(target.status), "\(target.id): \(target.reason ?? "")")
            #expect(Set(target.stages.map(\.stage)) == Set(StageName.allCases), "\(target.id) timed every stage")
            let discovery = try #require(target.suites.first { $0.name == "dma_discovery" }?.tests.first)
            #expect(discovery.observed["variant"] == target.variant, "the guest ran the variant asked for")
            if target.variant == "iommu" {
                #expect(discovery.observed["ops"] == "iommu", "\(target.id): edu sits behind the IOMMU")
            }

            // Provenance is checkable: the cached .deb matches the sha256 the report names.
            guard case .debian(let packages)? = target.kernel?.provenance else {
                Issue.record("\(target.id) has no Debian provenance")
                continue
            }
            #expect(packages.contains { $0.name.hasPrefix("linux-image-") })
            #expect(target.kernel?.moduleVermagic?.hasPrefix(target.kernel!.release + " ") == true)

            // Every attribute was exercised and classed from evidence.
            #expect(target.attributes.map(\.attribute) == ConformanceClassifier.attributes)
            for attribute in target.attributes {
                #expect(attribute.conformance != .untested, "\(target.id) \(attribute.attribute)")
                #expect(!attribute.evidence.isEmpty, "\(target.id) \(attribute.attribute)")
            }

            // The device really moved data for every attribute the CPU can read (no device DMA in noncoherent).
            let edu = try #require(target.suites.first { $0.name == "dma_edu" }, "\(target.id) ran dma_edu")
            if target.variant == "noncoherent" {
                #expect(edu.status == .skip)
            } else {
                for test in edu.tests where test.status != .skip {
                    #expect(test.observed["roundtrip"] == "1", "\(test.id) on \(target.id)")
                    #expect(Int(test.observed["transfer_ns"] ?? "") ?? 0 > 0)
                }
            }
            #expect(discovery.observed["ops"] != nil && discovery.observed["coherent"] != nil)

            // The evidence stays beside the report.
            let console = try String(contentsOf: out.appendingPathComponent(target.logs.console ?? "-"), encoding: .utf8)
            #expect(console.contains("KTAP version 1") && console.contains("dma-harness: suite end"))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(target.logs.qemu ?? "-").path))
        }
        // The table on stdout names every target.
        for target in report.targets { #expect(result.standardOutput.contains(target.id)) }
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    @Test("a guest that panics mid-suite is a crashed target with the tests before the panic")
    func panic() throws {
        let out = HarnessProcess.scratchFolder("panic")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path,
                                             "--kernel-arg", "dma_harness.fault=panic@5"])
        #expect(result.exitCode == ExitStatus.failures.rawValue)
        let target = try #require(try HarnessProcess.report(in: out).targets.first)
        #expect(target.status == .crashed)
        #expect(target.boot?.ending == .panicked)
        #expect(target.findings.contains { $0.kind == .panic })
        let reported = target.suites.flatMap(\.tests).filter { $0.status != .notRun }.count
        #expect(reported + target.suites.filter(\.complete).count == 5, "panic@5 counts KTAP result lines")
        #expect(target.suites.flatMap(\.tests).contains { $0.status == .notRun })
        let console = try String(contentsOf: out.appendingPathComponent("arm64-direct/console.log"), encoding: .utf8)
        #expect(console.contains("Kernel panic - not syncing"))
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
        #expect(HarnessProcess.leftoverTemporaryFiles(of: result.pid).isEmpty)
    }

    @Test("two runs at once share the host: the second gets a private libvirt root, removed after")
    func concurrentRuns() throws {
        let first = HarnessProcess.scratchFolder("concurrent-a")
        let second = HarnessProcess.scratchFolder("concurrent-b")
        defer { for folder in [first, second] { try? FileManager.default.removeItem(at: folder) } }
        let results = LockedResults()
        let group = DispatchGroup()
        for out in [first, second] {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                // Both start at once: the claim on the shared root must arbitrate, not timing.
                results.append(Result { try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path]) })
            }
        }
        group.wait()
        let finished = try results.all.map { try $0.get() }
        #expect(finished.count == 2)
        for result in finished {
            #expect([0, 1].contains(result.exitCode), "stderr: \(result.standardError)")
            #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
        }
        let uris = try [first, second].map { try HarnessProcess.report(in: $0).run.libvirtURI }
        #expect(Set(uris).count == 2, "one run used the shared root, the other a private one: \(uris)")
        for report in try [first, second].map(HarnessProcess.report(in:)) {
            #expect(report.targets.first?.boot?.ending == .poweredOff)
        }
        let cache = RunOptions.defaultCacheRoot
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { name in
            finished.contains { name == "\(HostConnection.privateRootPrefix)\($0.pid)" }
        }
        #expect(leftovers.isEmpty, "private roots removed: \(leftovers)")
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

    @Test("a guest that hangs is stopped at the timeout and reported")
    func hang() throws {
        let out = HarnessProcess.scratchFolder("hang")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path, "--timeout", "20",
                                             "--kernel-arg", "dma_harness.fault=hang@dma_alloc.none_4096"])
        #expect(result.exitCode == ExitStatus.failures.rawValue)
        let target = try #require(try HarnessProcess.report(in: out).targets.first)
        #expect(target.status == .timedOut)
        #expect(target.reason?.contains("hung") == true)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("arm64-direct/console.log").path))
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
    }

    @Test("Ctrl-C during boot keeps the partial report and leaves no QEMU behind")
    func interrupt() throws {
        let out = HarnessProcess.scratchFolder("sigint")
        defer { try? FileManager.default.removeItem(at: out) }
        let console = out.appendingPathComponent("x86_64-direct/console.log")
        let result = try HarnessProcess.run(["run", "--arch", "x86_64", "--out", out.path]) { process, _ in
            // Interrupt once the guest is writing its console, i.e. mid-boot.
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, process.isRunning,
                  ((try? FileManager.default.attributesOfItem(atPath: console.path)[.size] as? Int) ?? 0) < 200 {
                usleep(20_000)
            }
            kill(process.processIdentifier, SIGINT)
        }
        #expect(result.exitCode == ExitStatus.interrupted.rawValue, "stderr: \(result.standardError)")
        let report = try HarnessProcess.report(in: out)
        #expect(report.run.interruption != nil)
        #expect(report.targets.first?.status == .interrupted)
        #expect(FileManager.default.fileExists(atPath: console.path))
        #expect(HarnessProcess.leftoverQEMU(of: result.pid).isEmpty)
        #expect(HarnessProcess.leftoverTemporaryFiles(of: result.pid).isEmpty)
    }
}
}

final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<HarnessProcess.Result, Error>] = []
    func append(_ result: Result<HarnessProcess.Result, Error>) { lock.withLock { results.append(result) } }
    var all: [Result<HarnessProcess.Result, Error>] { lock.withLock { results } }
}
