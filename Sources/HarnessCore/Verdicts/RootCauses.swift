import Foundation

/// One failed check of one test, explained: the root cause it belongs to and the measured line.
struct ExplainedFailure {
    var rootCause: RootCause
    var check: String
    var test: TestResult
    var detail: String
}

/// A root cause the rules can name, with the promise it breaks and the code that breaks it.
struct RootCause {
    var id: String
    var title: String
    var tier: FindingTier
    var promise: PromiseCitation
    var cause: KernelCause?
}

/// The documents the contract is read from (Linux 6.1, Documentation/core-api/).
enum Promises {
    static let alignment = PromiseCitation(
        document: "Documentation/core-api/dma-api-howto.rst", section: "Using Consistent DMA mappings",
        text: "The CPU virtual address and the DMA address are both guaranteed to be aligned to the smallest PAGE_SIZE order which is greater than or equal to the requested size.",
        deFacto: false)
    static let boundary = PromiseCitation(
        document: "Documentation/core-api/dma-api-howto.rst", section: "Using Consistent DMA mappings",
        text: "if you allocate a chunk which is smaller than or equal to 64 kilobytes, the extent of the buffer you receive will not cross a 64K boundary.",
        deFacto: false)
    static let mask = PromiseCitation(
        document: "Documentation/core-api/dma-api.rst", section: "Part Ic - DMA addressing limitations",
        text: "dma_set_mask_and_coherent(): Checks to see if the mask is possible and updates the device streaming and coherent DMA mask parameters if it is.",
        deFacto: false)
    static let requiredMask = PromiseCitation(
        document: "Documentation/core-api/dma-api.rst", section: "Part Ic - DMA addressing limitations",
        text: "dma_get_required_mask(): This API returns the mask that the platform requires to operate efficiently. Usually this means the returned mask is the minimum required to cover all of memory.",
        deFacto: false)
    static let consistent = PromiseCitation(
        document: "Documentation/core-api/dma-api.rst", section: "Part Ia - Using large DMA-coherent buffers",
        text: "Consistent memory is memory for which a write by either the device or the processor can immediately be read by the processor or device without having to worry about caching effects.",
        deFacto: false)
    static let views = PromiseCitation(
        document: "Documentation/core-api/dma-api.rst", section: "Part Ia - Using large DMA-coherent buffers",
        text: "It returns a pointer to the allocated region (in the processor's virtual address space) ... It also returns a <dma_handle> ... the DMA address base of the region: both name the same memory.",
        deFacto: false)
    static let forceContiguous = PromiseCitation(
        document: "Documentation/core-api/dma-attributes.rst", section: "DMA_ATTR_FORCE_CONTIGUOUS",
        text: "By default DMA-mapping subsystem is allowed to assemble the buffer allocated by dma_alloc_attrs() function from individual pages if it can be mapped as contiguous chunk into device dma address space. By specifying this attribute the allocated buffer is forced to be contiguous also in physical memory.",
        deFacto: false)
    static let noKernelMapping = PromiseCitation(
        document: "Documentation/core-api/dma-attributes.rst", section: "DMA_ATTR_NO_KERNEL_MAPPING",
        text: "Since it is optional for platforms to implement DMA_ATTR_NO_KERNEL_MAPPING, those that do not will simply ignore the attribute and exhibit default behavior. ... the returned pointer is a cookie that can be passed to dma_mmap_attrs() and dma_free_attrs().",
        deFacto: false)
    static let zeroing = PromiseCitation(
        document: nil, section: nil,
        text: "de-facto: no document promises zeroed memory (dma-api-howto.rst makes no zeroing promise), but every allocator has zeroed since Linux 5.0 removed dma_zalloc_coherent() as redundant, and drivers rely on it.",
        deFacto: true)
    static let unknown = PromiseCitation(
        document: "harness/PROTOCOL.md", section: "Checks",
        text: "the suite's own check of that name; see harness/PROTOCOL.md for what it compares.", deFacto: false)
}

/// The rules that name a failed check's root cause from what the guest measured. Each rule states
/// the evidence it needs; a check no rule explains keeps its own name (`unexplained_<check>`), so a
/// new kind of breakage is reported, never hidden.
enum RootCauseRules {
    /// The tier of a check by what it is about (README, "Verdicts").
    static func tier(of check: String) -> FindingTier {
        switch check {
        case "misaligned_cpu", "views_disagree": return .cpuLetter
        case "not_zeroed", "not_zeroed_realloc", "user_not_zeroed": return .deFacto
        default: return .deviceVisible
        }
    }

    static func promise(of check: String) -> PromiseCitation {
        switch check {
        case "misaligned", "misaligned_cpu": return Promises.alignment
        case "crosses_64k": return Promises.boundary
        case "outside_mask", "mask_unsatisfiable", "outside_streaming_mask": return Promises.mask
        case "required_mask_below_ram": return Promises.requiredMask
        case "not_zeroed", "not_zeroed_realloc", "user_not_zeroed": return Promises.zeroing
        case "views_disagree": return Promises.views
        case "not_contiguous": return Promises.forceContiguous
        case "roundtrip", "data_mismatch", "mismatch": return Promises.consistent
        default: return Promises.unknown
        }
    }

    /// Explains `check` of `test`, or nil when no rule's evidence is there.
    static func explain(_ check: String, of test: TestResult, path: DiscoveredPath, context: VerdictContext) -> ExplainedFailure? {
        switch check {
        case "misaligned", "misaligned_cpu":
            return cmaAlignmentCap(check, test, path, context) ?? vmapAlignment(check, test, path)
        case "outside_mask":
            return maskAllocationsOutside(test, path, context)
        case "not_zeroed" where test.parameters["gfp"].map(isNonBlocking) == true:
            return atomicPoolNotZeroed(test, path, context)
        default:
            return nil
        }
    }

    /// The fallback: the check under its own name, its cause not identified.
    static func unexplained(_ check: String, of test: TestResult) -> ExplainedFailure {
        let cause = RootCause(id: "unexplained_\(check)", title: "\(check): root cause not identified by the rules",
                              tier: tier(of: check), promise: promise(of: check), cause: nil)
        return ExplainedFailure(rootCause: cause, check: check, test: test, detail: test.evidenceSummary)
    }

    // MARK: - The rules

    /// dma_alloc_contiguous() asks CMA for min(get_order(size), CONFIG_CMA_ALIGNMENT): above
    /// PAGE_SIZE << CONFIG_CMA_ALIGNMENT the block, and the linear address and DMA handle that
    /// follow it, are only aligned to the cap. Needs the config, and an address aligned to the cap
    /// but not to the promise, at a size above the cap.
    private static func cmaAlignmentCap(_ check: String, _ test: TestResult, _ path: DiscoveredPath,
                                        _ context: VerdictContext) -> ExplainedFailure? {
        // The guest prints the module's own CONFIG_CMA_ALIGNMENT (dma_discovery cma_alignment) when
        // CONFIG_DMA_CMA is set; a run also has the image's config.
        let configured = context.kernelConfig["CONFIG_DMA_CMA"] == "y" ? context.kernelConfig["CONFIG_CMA_ALIGNMENT"] : nil
        guard let order = (path.observed["cma_alignment"] ?? configured).flatMap({ UInt64($0) }), order < 32,
              let size = test.requestedSize else { return nil }
        let cap = path.pageSize << order
        let promised = promisedAlignment(size: size, pageSize: path.pageSize)
        // The DMA handle, or for the CPU address the physical address behind a linear mapping.
        let key: String
        if check == "misaligned" {
            key = test.observed["dma"] != nil ? "dma" : "first_dma"
        } else {
            guard test.observed["mapping"] == "linear" else { return nil }
            key = "phys"
        }
        guard promised > cap, let address = test.address(key) else { return nil }
        let aligned = alignment(of: address)
        guard aligned >= cap, aligned < promised else { return nil }
        let cause = RootCause(
            id: "cma_alignment_cap", title: "CMA caps the alignment of large allocations at CONFIG_CMA_ALIGNMENT",
            tier: tier(of: check), promise: Promises.alignment,
            cause: KernelCause(file: "kernel/dma/contiguous.c", function: "cma_alloc_aligned",
                               mechanism: "asks cma_alloc() for min(get_order(size), CONFIG_CMA_ALIGNMENT) = order \(order): blocks above \(byteText(cap)) are aligned to \(byteText(cap)) only"))
        let detail = "\(key)=\(test.observed[key]!) is aligned to \(byteText(aligned)), not the \(byteText(promised)) a \(byteText(size)) request is promised; CONFIG_CMA_ALIGNMENT=\(order) caps CMA blocks at \(byteText(cap))"
        return ExplainedFailure(rootCause: cause, check: check, test: test, detail: detail)
    }

    /// A remapped buffer's CPU address comes from vmap(), which aligns VM_DMA_COHERENT areas to
    /// PAGE_SIZE only, while the DMA handle (the pages, or the IOVA) keeps the promised alignment.
    private static func vmapAlignment(_ check: String, _ test: TestResult, _ path: DiscoveredPath) -> ExplainedFailure? {
        guard check == "misaligned_cpu", test.observed["dma_align_ok"] != "0" else { return nil }
        let remapped = ["vmalloc", "remapped"].contains(test.observed["mapping"] ?? "") || (test.count("remapped") ?? 0) > 0
        guard remapped else { return nil }
        let cause = RootCause(
            id: "vmap_cpu_alignment", title: "remapped CPU addresses are only page-aligned while the DMA handle stays aligned",
            tier: .cpuLetter, promise: Promises.alignment,
            cause: KernelCause(file: "kernel/dma/remap.c", function: "dma_common_pages_remap",
                               mechanism: "it and dma_common_contiguous_remap() call vmap(..., VM_DMA_COHERENT, prot), which places the area where free vmalloc space is, aligned to PAGE_SIZE only (mm/vmalloc.c get_vm_area_caller())"))
        let detail: String
        if let misaligned = test.observed["cpu_misaligned"], let sample = test.observed["sample"] {
            detail = "\(misaligned) of \(sample) remapped CPU addresses held at once were not aligned to their order"
        } else {
            detail = "CPU address of a \(test.observed["mapping"] ?? "remapped") mapping not aligned to the order; dma_align_ok=\(test.observed["dma_align_ok"] ?? "?")"
        }
        return ExplainedFailure(rootCause: cause, check: check, test: test, detail: detail)
    }

    /// A coherent mask the kernel accepted, and an allocation outside it.
    private static func maskAllocationsOutside(_ test: TestResult, _ path: DiscoveredPath, _ context: VerdictContext) -> ExplainedFailure? {
        // An allocation's own keys, or a pressure test's first buffer outside (dma_masks pressureN).
        let bits = test.parameters["mask_bits"].flatMap { UInt64($0) }
        guard let mask = test.address("coherent_mask") ?? bits.map({ $0 >= 64 ? UInt64.max : (UInt64(1) << $0) - 1 }),
              let dma = test.address("dma") ?? test.address("first_outside_dma") else { return nil }
        let id = "mask_accepted_allocations_outside"
        let cause = RootCause(
            id: id, title: "an accepted coherent mask, and allocations outside it",
            tier: .deviceVisible, promise: Promises.mask,
            cause: context.kernelCause(id, path: path)
                ?? KernelCause(file: "kernel/dma/direct.c", function: "dma_direct_alloc",
                               mechanism: "the allocation path taken did not check the result against the coherent mask"))
        let size = test.requestedSize ?? 0
        let held = test.observed["outside"].map { " (\($0) allocations outside it, \(test.observed["held"] ?? "?") buffers held at once under pressure)" } ?? ""
        let detail = "dma=\(String(format: "0x%llx", dma))..\(String(format: "0x%llx", dma &+ size &- 1)) is outside coherent_mask=\(String(format: "0x%llx", mask))\(held)"
        return ExplainedFailure(rootCause: cause, check: "outside_mask", test: test, detail: detail)
    }

    /// A non-blocking allocation comes from a pool of pages zeroed once, when the pool was made.
    private static func atomicPoolNotZeroed(_ test: TestResult, _ path: DiscoveredPath, _ context: VerdictContext) -> ExplainedFailure? {
        let id = "atomic_pool_not_zeroed"
        let cause = RootCause(
            id: id, title: "non-blocking allocations from the atomic pool are not zeroed",
            tier: .deFacto, promise: Promises.zeroing,
            cause: context.kernelCause(id, path: path)
                ?? KernelCause(file: "kernel/dma/pool.c", function: "dma_alloc_from_pool",
                               mechanism: "pool memory is handed back as the last user left it"))
        let offset = test.observed["nonzero_offset"].map { " (first non-zero byte at offset \($0))" } ?? ""
        return ExplainedFailure(rootCause: cause, check: "not_zeroed", test: test,
                                detail: "\(test.parameters["gfp"] ?? "") allocation of \(byteText(test.requestedSize ?? 0)) not zeroed\(offset)")
    }

    /// `dma_set_coherent_mask()` returned 0, and every allocation at that mask failed: the mask was
    /// not possible, yet accepted. A host-side check over the guest's measurements.
    static func unsatisfiableMasks(in tests: [TestResult], path: DiscoveredPath) -> [ExplainedFailure] {
        let setters = tests.filter { $0.suite == "dma_masks" && $0.observed["mask_set"] == "1" && $0.observed["ok"] == nil }
        var failures: [ExplainedFailure] = []
        var seen = Set<String>()
        for setter in setters {
            guard let bits = setter.parameters["mask_bits"], !seen.contains(bits) else { continue }
            seen.insert(bits)
            let allocations = tests.filter {
                $0.suite == "dma_masks" && $0.parameters["mask_bits"] == bits && $0.observed["ok"] != nil && $0.status != .notRun
            }
            guard !allocations.isEmpty, allocations.allSatisfy({ $0.observed["ok"] == "0" }) else { continue }
            let cause = RootCause(
                id: "mask_accepted_unsatisfiable", title: "a coherent mask accepted that no allocation can satisfy",
                tier: .deviceVisible, promise: Promises.mask,
                cause: path.ops == "direct"
                    ? KernelCause(file: "kernel/dma/direct.c", function: "dma_direct_supported",
                                  mechanism: "compares the mask with min(max_pfn, DMA_BIT_MASK(zone_dma_bits)), not with where RAM begins, so a mask below the lowest RAM is accepted")
                    : nil)
            for allocation in allocations {
                failures.append(ExplainedFailure(
                    rootCause: cause, check: "mask_unsatisfiable", test: allocation,
                    detail: "\(setter.id) accepted a \(bits)-bit mask; this \(byteText(allocation.requestedSize ?? 0)) allocation at it failed, like all \(allocations.count) at that mask"))
            }
        }
        return failures
    }

    /// What user space read first from a fresh mapping (dma_mmap `user_zeroed=0`): memory
    /// dma_alloc_attrs() handed out without zeroing. A host-side check over the helper's measurement.
    static func userVisibleNotZeroed(in tests: [TestResult], path: DiscoveredPath) -> [ExplainedFailure] {
        // Only dma_alloc_attrs() zeroes (de-facto); dma_alloc_pages() and dma_alloc_noncontiguous() never said so.
        tests.filter {
            $0.suite == "dma_mmap" && $0.observed["user_zeroed"] == "0" && $0.status != .notRun && $0.observed["api"] == "dma_alloc_attrs"
        }.map { test in
            let cookie = test.attributes.contains("NO_KERNEL_MAPPING") && path.ops == "direct"
            let cause = cookie
                ? RootCause(id: "no_kernel_mapping_not_zeroed", title: "NO_KERNEL_MAPPING buffers from dma-direct are not zeroed",
                            tier: .deFacto, promise: Promises.zeroing,
                            cause: KernelCause(file: "kernel/dma/direct.c", function: "dma_direct_alloc_no_mapping",
                                               mechanism: "allocates with gfp & ~__GFP_ZERO and never clears the pages, which have no kernel mapping to clear them through"))
                : RootCause(id: "unexplained_user_not_zeroed", title: "user_not_zeroed: root cause not identified by the rules",
                            tier: .deFacto, promise: Promises.zeroing, cause: nil)
            return ExplainedFailure(rootCause: cause, check: "user_not_zeroed", test: test,
                                    detail: "the first read of a fresh \(byteText(test.requestedSize ?? 0)) mapping through mmap found non-zero bytes (user_zeroed=0)")
        }
    }

    /// dma_get_required_mask() below the last RAM address (dma_discovery `ram_top`) on dma-direct,
    /// where the handle is the physical address: a driver that sized its descriptors by it could
    /// not reach all of memory. Behind an IOMMU the handle is an IOVA and RAM says nothing.
    static func requiredMaskBelowRAM(in tests: [TestResult], path: DiscoveredPath) -> [ExplainedFailure] {
        guard path.ops == "direct", let discovery = tests.first(where: { $0.suite == "dma_discovery" }),
              let required = discovery.address("required_mask"), let top = discovery.address("ram_top"), required < top
        else { return [] }
        let cause = RootCause(id: "required_mask_below_ram", title: "dma_get_required_mask() does not cover all of RAM",
                              tier: .deviceVisible, promise: Promises.requiredMask,
                              cause: KernelCause(file: "kernel/dma/direct.c", function: "dma_direct_get_required_mask",
                                                 mechanism: "derives the mask from the highest page frame it knows of, which is below the top of System RAM here"))
        return [ExplainedFailure(rootCause: cause, check: "required_mask_below_ram", test: discovery,
                                 detail: String(format: "required_mask=0x%llx but System RAM reaches 0x%llx", required, top))]
    }

    static func isNonBlocking(_ gfp: String) -> Bool {
        gfp.contains("GFP_ATOMIC") || gfp.contains("GFP_NOWAIT")
    }
}
