import Foundation

/// The checks that cannot fail on the host they ran on. Their passes are listed, never counted as
/// evidence; a failure of one still counts (a check that failed was not vacuous).
enum Vacuity {
    static func checks(in tests: [TestResult], path: DiscoveredPath, context: VerdictContext) -> [VacuousCheck] {
        var found: [VacuousCheck] = []
        func add(_ label: VacuousCheck.Label, _ claim: String, _ reason: String, whole: Bool, _ matching: [TestResult]) {
            let passed = matching.filter { $0.status == .pass }
            if !passed.isEmpty {
                found.append(VacuousCheck(label: label, claim: claim, reason: reason, wholeTest: whole, tests: passed.map(\.id)))
            }
        }
        let underTCG = context.accelerator == "tcg"
        let caches = "TCG models no CPU caches: memory the CPU wrote is what any other reader sees, with or without cache maintenance"

        if underTCG, path.coherent == false {
            // Without a device, a non-coherent round trip is the CPU reading back what it wrote.
            add(.vacuousUnderTCG, "non-coherent CPU-only round trip", caches, whole: true, tests.filter {
                $0.suite == "dma_noncoherent_api" && $0.observed["completion"] == nil && $0.observed["roundtrip"] == nil
            })
            add(.vacuousUnderTCG, "user and kernel views of a non-coherent mmap agree", caches, whole: true, tests.filter {
                $0.suite == "dma_mmap" && $0.observed["completion"] == nil
                    && ($0.observed["kernel_sees_user"] != nil || $0.observed["user_sees_kernel"] != nil)
            })
        }
        if underTCG {
            // edu writes through QEMU's address space into the same RAM the CPU reads: the data still
            // proves the DMA address right, but not that the memory is coherent.
            add(.vacuousUnderTCG, "coherent without sync (through edu)",
                caches + "; the round trip still checks the DMA address, and counts for that", whole: false, tests.filter {
                    $0.observed["completion"] != nil && $0.observed["roundtrip"] != nil
                })
        }
        // A mask check with no RAM above the mask holds whatever the kernel's mask logic does.
        let emptyAbove = Set(tests.filter { $0.suite == "dma_masks" && $0.observed["ram_above_mask"] == "0" }
            .compactMap { $0.parameters["mask_bits"] })
        add(.vacuousByConstruction, "allocations inside a coherent mask with no RAM above it",
            "no System RAM lay above the mask (ram_above_mask=0): every page the allocator could hand out is inside it",
            whole: false, tests.filter {
                $0.suite == "dma_masks" && $0.observed["in_mask"] != nil && $0.parameters["mask_bits"].map(emptyAbove.contains) == true
                    && $0.observed["stream_api"] == nil && !$0.name.hasPrefix("stream_map")
            })
        add(.vacuousByConstruction, "a streaming mapping inside its mask when the buffer already was",
            "the buffer lay inside the streaming mask before it was mapped (buffer_above_mask=0): nothing had to be bounced or refused",
            whole: true, tests.filter { $0.name.hasPrefix("stream_map") && $0.observed["buffer_above_mask"] == "0" })
        if path.ops == "direct" {
            add(.vacuousByConstruction, "views_agree on a linear dma-direct address",
                "dma-direct derives the handle with phys_to_dma() and the check translates it back with dma_to_phys(): the two views agree by construction",
                whole: false, tests.filter { $0.observed["views_agree"] != nil && $0.observed["mapping"] == "linear" })
        }
        return found
    }
}
