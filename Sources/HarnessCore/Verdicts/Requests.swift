import Foundation

/// What the verdict rules read besides the tests: the facts of the target, all measured in the run.
public struct VerdictContext: Sendable, Equatable {
    /// The kernel's config options that decide what the DMA layer can do (`KernelFacts.config`).
    public var kernelConfig: [String: String]
    /// The accelerator QEMU ran the guest with (`tcg`, `kvm`): TCG models no caches.
    public var accelerator: String

    /// The arch's own code behind a root cause, where its profile names one (`kernelCauses`).
    public var kernelCauses: [String: ArchProfile.ArchKernelCause]

    public init(kernelConfig: [String: String] = [:], accelerator: String,
                kernelCauses: [String: ArchProfile.ArchKernelCause] = [:]) {
        self.kernelConfig = kernelConfig
        self.accelerator = accelerator
        self.kernelCauses = kernelCauses
    }

    /// The profile's kernel code for root cause `id` on the discovered path, if it names one that applies.
    func kernelCause(_ id: String, path: DiscoveredPath) -> KernelCause? {
        guard let own = kernelCauses[id] else { return nil }
        if own.onlyWhenNoncoherent == true, path.coherent != false { return nil }
        return KernelCause(file: own.file, function: own.function, mechanism: own.mechanism)
    }
}

/// The facts the guest measured in `dma_discovery`: the DMA path the suite ran on.
struct DiscoveredPath {
    var observed: [String: String]

    init(tests: [TestResult]) {
        observed = tests.first { $0.suite == "dma_discovery" }?.observed ?? [:]
    }

    /// `direct` or `iommu` (dma_discovery `ops`).
    var ops: String? { observed["ops"] }
    /// Whether the kernel treats the device as DMA-coherent (`dev_is_dma_coherent()`).
    var coherent: Bool? { observed["coherent"].map { $0 == "1" } }
    var machine: String? { observed["machine"] }
    var pageSize: UInt64 { observed["page_size"].flatMap { UInt64($0) } ?? 4096 }
}

extension TestResult {
    /// The DMA attribute set as the guest named it: `none`, `WRITE_COMBINE`, `A+B`; nil for a test
    /// that is not about one (discovery, lifetime, the other allocation APIs).
    var attributeSet: String? { parameters["attrs"] }

    /// The atomic checks the guest reported failing: its `reason` split on `+`, or `failed` when a
    /// failing test gave none.
    var failedChecks: [String] {
        guard status == .fail else { return [] }
        let parts = (observed["reason"] ?? "").split(separator: "+").map(String.init).filter { !$0.isEmpty }
        return parts.isEmpty ? ["failed"] : parts
    }

    /// The request without its attributes: suite, the test's shape (its name with every attribute
    /// word taken out) and every other parameter. The baseline test of an attribute test, and the
    /// single-attribute tests of a pair, have the same key.
    var requestKey: String {
        let words = name.split(separator: "_").map(String.init).filter { !RequestKey.attributeWords.contains($0) }
        let others = parameters.filter { $0.key != "attrs" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return ([suite, words.joined(separator: "_")] + others).joined(separator: "|")
    }

    /// A hexadecimal address the guest printed under `key`.
    func address(_ key: String) -> UInt64? {
        guard let text = observed[key], text.hasPrefix("0x") else { return nil }
        return UInt64(text.dropFirst(2), radix: 16)
    }

    /// The requested size in bytes.
    var requestedSize: UInt64? { parameters["size"].flatMap { UInt64($0) } }

    /// A count the guest printed (`segments`, `alloc_warnings`, ...).
    func count(_ key: String) -> Int? { observed[key].flatMap { Int($0) } }
}

enum RequestKey {
    /// The words of the attribute names as test names spell them, and the joiners between them.
    static let attributeWords: Set<String> = Set(
        ConformanceAttributes.all.flatMap { $0.lowercased().split(separator: "_").map(String.init) } + ["none", "and"])
}

/// The alignment a power-of-two boundary gives an address: the largest 2^k dividing it.
func alignment(of address: UInt64) -> UInt64 {
    address == 0 ? UInt64(1) << 63 : UInt64(1) << UInt64(address.trailingZeroBitCount)
}

/// The alignment dma_alloc_attrs() promises a request of `size`: PAGE_SIZE << get_order(size).
func promisedAlignment(size: UInt64, pageSize: UInt64) -> UInt64 {
    var alignment = pageSize
    while alignment < size { alignment <<= 1 }
    return alignment
}

/// `2 MiB`, `64 KiB`, `4096 B`: sizes in findings, in binary units.
func byteText(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
    if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
    return "\(bytes) B"
}

extension VerdictContext {
    /// The harness boots every guest under TCG (DomainXML: `<domain type='qemu'>`), with no kernel config known.
    public static let tcg = VerdictContext(accelerator: "tcg")
}
