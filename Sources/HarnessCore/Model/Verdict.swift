import Foundation

// The verdict model of schema 2.0 (README, "Verdicts"): per target and attribute, what the attribute
// did (`effect`), whether its own promises held (`ownContract`), what broke only with it (`added`) and
// which baseline findings it shares (`inherited`); per target, the findings keyed by root cause.

/// The attributes of Linux 6.1's include/linux/dma-mapping.h, and the baseline.
public enum ConformanceAttributes {
    public static let all = [
        "WEAK_ORDERING", "WRITE_COMBINE", "NO_KERNEL_MAPPING", "SKIP_CPU_SYNC",
        "FORCE_CONTIGUOUS", "ALLOC_SINGLE_PAGES", "NO_WARN", "PRIVILEGED",
    ]
    /// The report's columns: the baseline first.
    public static let columns = ["none"] + all
}

/// What an attribute did, measured against the no-attribute baseline at the same request.
public enum AttributeEffect: String, Codable, Sendable, CaseIterable {
    /// The attribute's documented effect was measured.
    case honored
    /// The measurement was taken and showed no effect (allowed for hints).
    case ignored
    /// The baseline already behaves as the attribute asks, so no effect could show.
    case indistinguishable
    /// The attribute has nothing to act on here (the path was measured).
    case notApplicable = "not_applicable"
    /// Nothing in this run can measure the effect; the basis says why.
    case unmeasured
}

/// The state of the promises an attribute makes itself.
public enum ContractState: String, Codable, Sendable {
    case kept, broken, untested
}

/// The one-glance class of a verdict: `violated` only when a check broke with the attribute that the
/// baseline keeps (`added`) or the attribute's own promise broke.
public enum VerdictClass: String, Codable, Sendable {
    case violated
    case conforming
    /// Every allocation with the attribute failed where the baseline's succeeded.
    case rejected
    /// No test ran with the attribute.
    case untested
}

/// How much a broken promise matters, and whether it fails the target.
public enum FindingTier: String, Codable, Sendable, Comparable {
    /// What the device sees: DMA handle alignment, mask, 64 KiB boundary, data through the device.
    case deviceVisible = "device_visible"
    /// The letter of the CPU-side contract: CPU address alignment, the CPU and DMA views.
    case cpuLetter = "cpu_letter"
    /// An expectation the kernel has met for years without documenting it (zeroing). Reported;
    /// it does not fail the target (exit code 4 when it is all there is).
    case deFacto = "de_facto"

    public var failsTarget: Bool { self != .deFacto }

    private var rank: Int { self == .deviceVisible ? 0 : self == .cpuLetter ? 1 : 2 }
    public static func < (lhs: FindingTier, rhs: FindingTier) -> Bool { lhs.rank < rhs.rank }
}

/// `effect`: the class, the measurement it rests on, and the rule in words.
public struct EffectJudgement: Codable, Sendable, Equatable {
    public var `class`: AttributeEffect
    /// What was measured: `segments`, `cookie kind`, `vm_page_prot of the user mapping`, ...
    public var measurement: String
    public var basis: String
    public var evidence: [String]
}

/// `ownContract`: the attribute's own promise and whether it held.
public struct OwnContract: Codable, Sendable, Equatable {
    public var state: ContractState
    /// The promise, with the document that makes it; `none` for a hint.
    public var promise: String
    public var basis: String
    public var evidence: [String]
}

/// One atomic check that fails with the attribute and passes for the baseline at the same request.
public struct AddedCheck: Codable, Sendable, Equatable {
    /// The guest's check name (one part of a `reason`, split on `+`).
    public var check: String
    public var tier: FindingTier
    /// The id of the finding that explains it, in the target's `contractFindings`.
    public var finding: String
    /// The attribute's failing tests.
    public var tests: [String]
    /// The baseline's tests at the same request, which passed that check (empty when the baseline has none).
    public var baselineTests: [String]
}

/// The verdict on one attribute (or one pair, in `combinations`) on one target.
public struct AttributeVerdict: Codable, Sendable, Equatable {
    /// `none` for the baseline, a DMA_ATTR_ name without its prefix, or `A+B` for a pair.
    public var attribute: String
    public var verdict: VerdictClass
    /// The cell text: `ignored · 2 inherited`, `violated · 1 added`, ...
    public var cell: String
    public var effect: EffectJudgement
    public var ownContract: OwnContract
    public var added: [AddedCheck]
    /// Ids of the baseline findings (in `contractFindings`) the attribute's tests share.
    public var inherited: [String]
    /// The tests the verdict rests on (vacuous ones excluded).
    public var evidence: [String]

    public init(attribute: String, verdict: VerdictClass, cell: String, effect: EffectJudgement,
                ownContract: OwnContract, added: [AddedCheck], inherited: [String], evidence: [String]) {
        self.attribute = attribute
        self.verdict = verdict
        self.cell = cell
        self.effect = effect
        self.ownContract = ownContract
        self.added = added
        self.inherited = inherited
        self.evidence = evidence
    }

    private enum CodingKeys: String, CodingKey {
        case attribute, verdict, cell, effect, ownContract, added, inherited, evidence
        // Schema 1.x: one class and its basis.
        case conformance, basis
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attribute = try container.decode(String.self, forKey: .attribute)
        evidence = try container.decode([String].self, forKey: .evidence)
        if container.contains(.verdict) {
            verdict = try container.decode(VerdictClass.self, forKey: .verdict)
            cell = try container.decode(String.self, forKey: .cell)
            effect = try container.decode(EffectJudgement.self, forKey: .effect)
            ownContract = try container.decode(OwnContract.self, forKey: .ownContract)
            added = try container.decode([AddedCheck].self, forKey: .added)
            inherited = try container.decode([String].self, forKey: .inherited)
            return
        }
        // A 1.x report (waivers and compare still read them): its class says violated or not, and
        // what it called honored or ignored was an effect, though not a measured one.
        let legacy = try container.decode(String.self, forKey: .conformance)
        let basis = try container.decodeIfPresent(String.self, forKey: .basis) ?? ""
        switch legacy {
        case "violated": verdict = .violated
        case "rejected": verdict = .rejected
        case "untested": verdict = .untested
        case "honored", "ignored": verdict = .conforming
        default:
            throw DecodingError.dataCorruptedError(forKey: .conformance, in: container,
                                                   debugDescription: "unknown 1.x class '\(legacy)'")
        }
        cell = legacy
        effect = EffectJudgement(class: AttributeEffect(rawValue: legacy) ?? .unmeasured,
                                 measurement: "schema 1.x class (no measurement recorded)", basis: basis, evidence: [])
        ownContract = OwnContract(state: .untested, promise: "not recorded by schema 1.x", basis: basis, evidence: [])
        added = []
        inherited = []
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attribute, forKey: .attribute)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(cell, forKey: .cell)
        try container.encode(effect, forKey: .effect)
        try container.encode(ownContract, forKey: .ownContract)
        try container.encode(added, forKey: .added)
        try container.encode(inherited, forKey: .inherited)
        try container.encode(evidence, forKey: .evidence)
    }
}

/// Where a finding's expectation comes from.
public struct PromiseCitation: Codable, Sendable, Equatable {
    /// `Documentation/core-api/dma-api-howto.rst`, or nil for a de-facto expectation.
    public var document: String?
    public var section: String?
    /// The promise in the document's words, or where the de-facto expectation comes from.
    public var text: String
    public var deFacto: Bool
}

/// The kernel code that makes the finding happen.
public struct KernelCause: Codable, Sendable, Equatable {
    public var file: String
    public var function: String
    public var mechanism: String
}

/// One measured line behind a finding.
public struct FindingEvidence: Codable, Sendable, Equatable {
    public var test: String
    /// The atomic check that failed (`misaligned`, or a host-side one such as `mask_unsatisfiable`).
    public var check: String
    /// What the rule read from the test's observations, in words.
    public var detail: String
}

/// A broken promise on one target, keyed by its root cause (`cma_alignment_cap`, ...). A check whose
/// cause the rules cannot name gets the id `unexplained_<check>` and no `cause`.
public struct ContractFinding: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var tier: FindingTier
    /// The atomic checks it explains.
    public var checks: [String]
    public var promise: PromiseCitation
    public var cause: KernelCause?
    public var evidence: [FindingEvidence]
    public var tests: [String]
    /// Whether the no-attribute baseline shows it (a baseline finding), else only attributes do.
    public var inBaseline: Bool
    /// The attribute sets (`none`, `WRITE_COMBINE`, `A+B`) whose tests show it.
    public var attributes: [String]
}

/// A check that cannot fail on this host, so its pass is no evidence (README, "Honesty under TCG").
public struct VacuousCheck: Codable, Sendable, Equatable {
    public enum Label: String, Codable, Sendable {
        /// TCG models no caches: a missing cache maintenance step cannot lose data.
        case vacuousUnderTCG = "vacuous_under_tcg"
        /// The check compares a value with itself on this path, on any host.
        case vacuousByConstruction = "vacuous_by_construction"
    }

    public var label: Label
    /// The claim that cannot fail (`noncoherent CPU round trip`, ...).
    public var claim: String
    public var reason: String
    /// True when the claim is all the test checks; false when the test still checks something
    /// real (an edu round trip still checks the DMA address) and counts for that.
    public var wholeTest: Bool
    public var tests: [String]
}

extension AttributeVerdict {
    /// One word for a narrow table: the class when it is not `conforming`, else the effect
    /// (for the baseline, whether its contract was kept).
    public var cellWord: String {
        switch verdict {
        case .conforming: return attribute == "none" ? ownContract.state.rawValue : effect.class.rawValue
        default: return verdict.rawValue
        }
    }
}
