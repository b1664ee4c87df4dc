import Foundation
import Testing
@testable import HarnessCore

/// The consoles of one real `harness run --arch all --variant all` (Fixtures/verdicts/README.md).
enum VerdictFixture {
    static let targets = ["arm-direct", "arm-noncoherent", "arm-swiotlb", "arm64-direct", "arm64-iommu", "arm64-noncoherent",
                          "arm64-swiotlb", "x86_64-direct", "x86_64-iommu", "x86_64-noncoherent", "x86_64-swiotlb"]

    static func console(_ target: String) throws -> String {
        let file = Fixture.folder.appendingPathComponent("verdicts/console-\(target).log.xz")
        return try Subprocess.checked("xz", ["-dc", file.path]).standardOutput
    }

    static func collected(_ target: String) throws -> CollectedResults {
        ResultCollector.collect(console: try console(target), ending: .poweredOff, detail: "powered off")
    }

    /// The guest's failed checks straight from its `reason`, split on `+`.
    static func rawChecks(_ test: TestResult) -> [String] {
        (test.observed["reason"] ?? "").split(separator: "+").map(String.init)
    }

    static func hex(_ text: String?) -> UInt64? {
        guard let text, text.hasPrefix("0x") else { return nil }
        return UInt64(text.dropFirst(2), radix: 16)
    }
}

/// Each expectation here is computed from what the guest printed (addresses, counts, flags), never
/// taken from the classifier's output.
@Suite("verdicts on recorded real runs")
struct VerdictTests {
    @Test("every failed check of every recorded target is explained by exactly one finding, or is NO_WARN's hint",
          arguments: VerdictFixture.targets)
    func everyFailureExplained(target: String) throws {
        let collected = try VerdictFixture.collected(target)
        for test in collected.document.allTests where test.status == .fail {
            for check in VerdictFixture.rawChecks(test) {
                let holders = collected.verdicts.findings.filter { finding in
                    finding.evidence.contains { $0.test == test.id && $0.check == check }
                }
                let hint = test.attributes.contains("NO_WARN") && ["warn_taint", "warned_despite_no_warn"].contains(check)
                #expect(holders.count == (hint ? 0 : 1), "\(target) \(test.id) \(check)")
            }
        }
    }

    @Test("no cell is violated through inheritance alone: each added check failed with the attribute, not for the baseline",
          arguments: VerdictFixture.targets)
    func noViolationByInheritance(target: String) throws {
        let collected = try VerdictFixture.collected(target)
        let tests = Dictionary(uniqueKeysWithValues: collected.document.allTests.map { ($0.id, $0) })
        let hostDerived: Set<String> = ["mask_unsatisfiable", "user_not_zeroed", "required_mask_below_ram"]
        for verdict in collected.verdicts.attributes + collected.verdicts.combinations {
            if verdict.verdict == .violated {
                #expect(!verdict.added.isEmpty || verdict.ownContract.state == .broken, "\(target) \(verdict.attribute)")
            }
            for added in verdict.added where !hostDerived.contains(added.check) {
                for id in added.tests {
                    #expect(VerdictFixture.rawChecks(try #require(tests[id])).contains(added.check), "\(id) fails \(added.check)")
                }
                for id in added.baselineTests {
                    #expect(!VerdictFixture.rawChecks(try #require(tests[id])).contains(added.check), "\(id) passes \(added.check)")
                }
            }
        }
    }

    @Test("CMA's alignment cap: exactly the large requests whose DMA handle is aligned to the cap and no more")
    func cmaAlignmentCap() throws {
        for target in ["arm-direct", "arm64-direct", "arm64-noncoherent"] {
            let collected = try VerdictFixture.collected(target)
            let all = collected.document.allTests
            let discovery = try #require(all.first { $0.suite == "dma_discovery" }?.observed)
            let page = try #require(UInt64(discovery["page_size"] ?? ""))
            let cap = page << (try #require(UInt64(discovery["cma_alignment"] ?? ""), "\(target) printed cma_alignment"))
            let expected = Set(all.filter { test in
                guard VerdictFixture.rawChecks(test).contains("misaligned"),
                      let dma = VerdictFixture.hex(test.observed["dma"] ?? test.observed["first_dma"]), let size = UInt64(test.parameters["size"] ?? "") else { return false }
                return size > cap && dma % cap == 0
            }.map(\.id))
            #expect(!expected.isEmpty, "\(target) shows the cap")
            let finding = try #require(collected.verdicts.findings.first { $0.id == "cma_alignment_cap" }, "\(target)")
            let measured = Set(finding.evidence.filter { $0.check == "misaligned" }.map(\.test))
            #expect(measured == expected, "\(target)")
            #expect(finding.tier == .deviceVisible && finding.inBaseline)
            #expect(finding.cause?.file == "kernel/dma/contiguous.c")
        }
    }

    @Test("a coherent mask the kernel accepted while every allocation at it failed is a device-visible finding")
    func unsatisfiableMask() throws {
        let collected = try VerdictFixture.collected("arm-direct")
        let all = collected.document.allTests
        let accepted = Set(all.filter { $0.suite == "dma_masks" && $0.observed["mask_set"] == "1" && $0.observed["ok"] == nil }
            .compactMap { $0.parameters["mask_bits"] })
        let unsatisfied = accepted.filter { bits in
            let allocations = all.filter { $0.suite == "dma_masks" && $0.parameters["mask_bits"] == bits && $0.observed["ok"] != nil }
            return !allocations.isEmpty && allocations.allSatisfy { $0.observed["ok"] == "0" }
        }
        #expect(!unsatisfied.isEmpty, "the recorded arm guest accepts masks below its RAM")
        let finding = try #require(collected.verdicts.findings.first { $0.id == "mask_accepted_unsatisfiable" })
        let findingBits = Set(finding.tests.compactMap { id in all.first { $0.id == id }?.parameters["mask_bits"] })
        #expect(findingBits == unsatisfied)
        #expect(collected.status == .failed)
    }

    @Test("NO_WARN's effect follows the failure reports the guest counted")
    func noWarn() throws {
        // arm-direct: the 16 MiB request reported its failure without the attribute and not with it.
        let arm = try VerdictFixture.collected("arm-direct")
        let loud = try #require(arm.document.allTests.first { $0.id == "dma_alloc.none_16777216" })
        let quiet = try #require(arm.document.allTests.first { $0.id == "dma_alloc.no_warn_16777216" })
        #expect(loud.observed["ok"] == "0" && quiet.observed["ok"] == "0")
        let contrast = (Int(loud.observed["cma_failure_reports"] ?? "0") ?? 0) > 0 && quiet.observed["cma_failure_reports"] == nil
        #expect(contrast)
        #expect(arm.verdicts.attributes.first { $0.attribute == "NO_WARN" }?.effect.class == .honored)

        // x86_64-iommu: the impossible request warned with the attribute: ignored, a hint, never a violation.
        let iommu = try VerdictFixture.collected("x86_64-iommu")
        let impossible = try #require(iommu.document.allTests.first { $0.id == "dma_gfp.impossible_no_warn" })
        #expect((Int(impossible.observed["warnings"] ?? "0") ?? 0) > 0)
        let verdict = try #require(iommu.verdicts.attributes.first { $0.attribute == "NO_WARN" })
        #expect(verdict.effect.class == .ignored)
        #expect(verdict.verdict != .violated)
        #expect(iommu.verdicts.excusedFailures[impossible.id] != nil, "a hint's outcome does not fail the target by itself")
        // The realistic case runs first in dma_alloc, so its WARN_ON_ONCE is fresh: it warned, and counts.
        let pair = try #require(iommu.document.allTests.first { $0.id == "dma_alloc.force_contiguous_and_no_warn_16777216" })
        let pairWarned = (Int(pair.observed["warnings"] ?? "0") ?? 0) > 0
        #expect(pairWarned == verdict.effect.evidence.contains(pair.id))
    }

    @Test("FORCE_CONTIGUOUS is kept and indistinguishable where the baseline is contiguous, honored where it is scattered")
    func forceContiguous() throws {
        for target in ["arm64-direct", "x86_64-iommu"] {
            let collected = try VerdictFixture.collected(target)
            let all = collected.document.allTests.filter { $0.suite == "dma_alloc" && $0.observed["ok"] == "1" }
            let forced = all.filter { $0.parameters["attrs"] == "FORCE_CONTIGUOUS" }
            let baselineScattered = all.contains { $0.parameters["attrs"] == "none" && (Int($0.observed["segments"] ?? "1") ?? 1) > 1 }
            #expect(!forced.isEmpty && forced.allSatisfy { $0.observed["segments"] == "1" }, "\(target)")
            let verdict = try #require(collected.verdicts.attributes.first { $0.attribute == "FORCE_CONTIGUOUS" })
            #expect(verdict.ownContract.state == .kept, "\(target)")
            #expect(verdict.effect.class == (baselineScattered ? .honored : .indistinguishable), "\(target)")
        }
    }

    @Test("NO_KERNEL_MAPPING memory that user space reads as non-zero is a de-facto finding: reported, the target passes")
    func deFactoZeroing() throws {
        let collected = try VerdictFixture.collected("x86_64-direct")
        let mapped = try #require(collected.document.allTests.first { $0.id == "dma_mmap.no_kernel_mapping_mmap" })
        #expect(mapped.observed["user_zeroed"] == "0")
        let finding = try #require(collected.verdicts.findings.first { $0.id == "no_kernel_mapping_not_zeroed" })
        #expect(finding.tier == .deFacto && finding.promise.deFacto)
        #expect(collected.verdicts.attributes.first { $0.attribute == "NO_KERNEL_MAPPING" }?.ownContract.state == .broken)
        #expect(collected.status == .passed)
        // Behind the IOMMU the cookie's memory came back zeroed: the promise kept.
        let iommu = try VerdictFixture.collected("x86_64-iommu")
        #expect(iommu.document.allTests.first { $0.id == "dma_mmap.no_kernel_mapping_mmap" }?.observed["user_zeroed"] == "1")
        #expect(iommu.verdicts.attributes.first { $0.attribute == "NO_KERNEL_MAPPING" }?.ownContract.state == .kept)
    }

    @Test("under TCG, CPU-only non-coherent round trips are vacuous and no verdict counts them")
    func vacuousUnderTCG() throws {
        let collected = try VerdictFixture.collected("arm64-noncoherent")
        let cpuOnly = Set(collected.document.allTests.filter {
            $0.suite == "dma_noncoherent_api" && $0.status == .pass && $0.observed["roundtrip"] == nil
        }.map(\.id))
        #expect(!cpuOnly.isEmpty)
        let listed = Set(collected.verdicts.vacuous.filter { $0.label == .vacuousUnderTCG && $0.wholeTest }.flatMap(\.tests))
        #expect(cpuOnly.isSubset(of: listed))
        for verdict in collected.verdicts.attributes { #expect(listed.isDisjoint(with: verdict.evidence), "\(verdict.attribute)") }
        // With KVM the same console's checks would be evidence.
        let kvm = ResultCollector.collect(console: try VerdictFixture.console("arm64-noncoherent"), ending: .poweredOff,
                                          detail: "", context: VerdictContext(accelerator: "kvm"))
        #expect(kvm.verdicts.vacuous.allSatisfy { $0.label == .vacuousByConstruction })
    }

    @Test("a noncoherent variant on a coherent device, or a swiotlb variant without swiotlb, is unsupported, with the reason")
    func coherentNoncoherent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let planned = try TargetPlanner.plan(arches: ["arm", "x86_64", "arm64"], variants: ["noncoherent", "swiotlb"],
                                             kernel: .debian, catalog: ArchCatalog(layout: ProjectLayout(root: root)))
        #expect(planned.count == 6)
        for planned in planned {
            let tests = try VerdictFixture.collected(planned.id).document.allTests
            let discovery = tests.first { $0.suite == "dma_discovery" }?.observed ?? [:]
            let mismatch = planned.variant == "noncoherent" ? discovery["coherent"] == "1" : discovery["swiotlb"] == "0"
            #expect((TargetPipeline.variantMismatch(planned, tests: tests) != nil) == mismatch, "\(planned.id)")
        }
    }

    @Test("SKIP_CPU_SYNC is honored where unmap had a bounce buffer to copy back, indistinguishable where it had none")
    func skipCPUSync() throws {
        for target in ["arm64-swiotlb", "x86_64-swiotlb", "arm64-direct", "x86_64-iommu"] {
            let collected = try VerdictFixture.collected(target)
            let all = collected.document.allTests
            let plain = try #require(all.first { $0.id == "dma_edu.streaming_unmap" }, "\(target)")
            let skipped = try #require(all.first { $0.id == "dma_edu.streaming_unmap_skip_cpu_sync" }, "\(target)")
            let bounced = plain.observed["bounced"] == "1" && skipped.observed["bounced"] == "1"
            let copySkipped = plain.observed["cpu_sees_device"] == "1" && skipped.observed["cpu_stale"] == "1"
            let effect = collected.verdicts.attributes.first { $0.attribute == "SKIP_CPU_SYNC" }?.effect.class
            #expect(effect == (bounced ? (copySkipped ? .honored : .ignored) : .indistinguishable), "\(target)")
            #expect(bounced == target.hasSuffix("swiotlb"), "\(target): only swiotlb=force bounces")
        }
    }

    @Test("a mask check with no RAM above the mask is vacuous; one with RAM above it counts")
    func maskVacuity() throws {
        for target in ["x86_64-direct", "arm64-iommu"] {
            let collected = try VerdictFixture.collected(target)
            let all = collected.document.allTests
            let empty = Set(all.filter { $0.name.hasPrefix("coherent_mask_") && $0.observed["ram_above_mask"] == "0" }
                .compactMap { $0.parameters["mask_bits"] })
            let full = Set(all.filter { $0.name.hasPrefix("coherent_mask_") && (UInt64($0.observed["ram_above_mask"] ?? "0") ?? 0) > 0 }
                .compactMap { $0.parameters["mask_bits"] })
            #expect(!empty.isEmpty && !full.isEmpty, "\(target) has masks of both kinds")
            let vacuous = Set(collected.verdicts.vacuous.filter { $0.claim.contains("coherent mask") }.flatMap(\.tests))
            for test in all where test.suite == "dma_masks" && test.status == .pass && test.observed["in_mask"] != nil
                && test.name.hasPrefix("mask") {
                let bits = test.parameters["mask_bits"] ?? ""
                #expect(vacuous.contains(test.id) == empty.contains(bits), "\(target) \(test.id)")
            }
        }
    }

    @Test("a streaming mapping under a narrow mask comes back inside it, carrying the data to edu, or is refused")
    func streamingMask() throws {
        for target in VerdictFixture.targets {
            let all = try VerdictFixture.collected(target).document.allTests
            for test in all where test.name.hasPrefix("stream_map") && test.observed["ok"] == "1" {
                let bits = try #require(UInt64(test.parameters["mask_bits"] ?? ""))
                let dma = try #require(VerdictFixture.hex(test.observed["dma"]))
                let inside = bits >= 64 || dma + 4095 <= (UInt64(1) << bits) - 1
                let deviceRead = test.observed["device_read_ok"] != "0"
                #expect((test.status == .pass) == (inside && deviceRead), "\(target) \(test.id)")
                // With edu (not the noncoherent variant's device) the data went through the handle.
                if inside, target.hasSuffix("-direct") || target.hasSuffix("-swiotlb") {
                    #expect(test.observed["device_read_ok"] == "1", "\(target) \(test.id) read by edu")
                }
            }
        }
    }

    @Test("under pressure (buffers held until the RAM below the mask is used up) every buffer must stay inside the mask")
    func maskPressure() throws {
        for target in ["arm-noncoherent", "x86_64-direct", "x86_64-iommu"] {
            let collected = try VerdictFixture.collected(target)
            let pressured = collected.document.allTests.filter { $0.name.hasPrefix("pressure") && $0.status != .skip }
            let outside = Set(pressured.filter { (Int($0.observed["outside"] ?? "0") ?? 0) > 0 }.map(\.id))
            let finding = collected.verdicts.findings.first { $0.id == "mask_accepted_allocations_outside" }
            #expect(outside.isSubset(of: Set(finding?.tests ?? [])), "\(target)")
            #expect(outside.isEmpty == !target.hasPrefix("arm"), "\(target): only arm's CMA allocator ignores the mask")
            for test in pressured { #expect((test.status == .fail) == outside.contains(test.id), "\(test.id)") }
            if target.hasSuffix("iommu") { #expect(pressured.isEmpty, "behind an IOMMU the handle is an IOVA: skipped") }
        }
    }

    @Test("WRITE_COMBINE's effect follows both views of the memory type the guest read, user mapping and kernel PTE")
    func writeCombine() throws {
        for target in ["x86_64-direct", "arm64-noncoherent"] {
            let collected = try VerdictFixture.collected(target)
            let all = collected.document.allTests
            var differs = false, compared = 0
            for key in ["vm_page_prot", "kernel_pte_cache"] {
                for test in all where test.parameters["attrs"] == "WRITE_COMBINE" && test.observed[key] != nil {
                    let twin = test.name.replacingOccurrences(of: "write_combine", with: "none")
                    guard let base = all.first(where: { $0.suite == test.suite && $0.name == twin })?.observed[key] else { continue }
                    compared += 1
                    differs = differs || base != test.observed[key]
                }
            }
            #expect(compared > 0, "\(target) measured the memory type")
            if target.hasPrefix("x86_64") { #expect(all.contains { $0.observed["kernel_pte_cache"] != nil }, "x86 reads the kernel PTE") }
            let effect = collected.verdicts.attributes.first { $0.attribute == "WRITE_COMBINE" }?.effect.class
            #expect(effect == (differs ? .honored : .ignored), "\(target)")
        }
    }

    @Test("the classifier is a pure function: the same tests give the same verdicts")
    func deterministic() throws {
        let tests = try VerdictFixture.collected("arm64-iommu").document.allTests
        #expect(VerdictClassifier.classify(tests: tests, context: .tcg) == VerdictClassifier.classify(tests: tests, context: .tcg))
        #expect(VerdictClassifier.classify(tests: tests.reversed(), context: .tcg).findings.map(\.id).sorted()
            == VerdictClassifier.classify(tests: tests, context: .tcg).findings.map(\.id).sorted())
    }

    @Test("a 1.x report is still read: each attribute's class becomes its verdict")
    func legacyReport() throws {
        let file = ReportFixture.url(ReportFixture.all)
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        #expect((raw["schemaVersion"] as? String)?.hasPrefix("1.") == true)
        let report = try RunReport.load(from: file)
        for (index, target) in ((raw["targets"] as? [[String: Any]]) ?? []).enumerated() {
            for (position, attribute) in ((target["attributes"] as? [[String: Any]]) ?? []).enumerated() {
                let legacy = attribute["conformance"] as? String
                let verdict = report.targets[index].attributes[position]
                #expect((verdict.verdict == .violated) == (legacy == "violated"))
                #expect(verdict.cell == legacy)
            }
        }
    }
}
