import Foundation

/// The documented contract's classes (DESIGN.md, "Conformance, not just pass/fail").
public enum ConformanceClass: String, Codable, Sendable {
    /// The attribute's documented effect was observed.
    case honored
    /// Accepted with no observable effect: allowed for hints.
    case ignored
    /// Every allocation with the attribute failed.
    case rejected
    /// A promise was broken: not zeroed, misaligned, outside the mask, data mismatch, ...
    case violated
    /// No test exercised the attribute on this target.
    case untested
}

/// One attribute's class on one target, with the tests that are its evidence.
public struct AttributeConformance: Codable, Sendable, Equatable {
    /// `none` for the baseline, else the DMA_ATTR_ name without its prefix.
    public var attribute: String
    public var conformance: ConformanceClass
    /// Why this class: the rule that decided it, in words.
    public var basis: String
    /// Ids of the tests the class rests on.
    public var evidence: [String]
}

/// Derives each attribute's class from what the guest observed. The rules are the same for every
/// arch; nothing here knows what an arch is expected to do.
public enum ConformanceClassifier {
    /// The attributes of Linux 6.1's include/linux/dma-mapping.h, and the baseline.
    public static let attributes = [
        "none", "WEAK_ORDERING", "WRITE_COMBINE", "NO_KERNEL_MAPPING", "SKIP_CPU_SYNC",
        "FORCE_CONTIGUOUS", "ALLOC_SINGLE_PAGES", "NO_WARN", "PRIVILEGED",
    ]

    public static func classify(tests: [TestResult]) -> [AttributeConformance] {
        let baseline = tests.filter { $0.parameters["attrs"] == "none" }
        return attributes.map { attribute in
            let own = tests.filter { test in
                attribute == "none" ? test.parameters["attrs"] == "none" : test.attributes == [attribute]
            }
            // A promise broken while the attribute was combined with another is broken for it too.
            let pairedFailures = attribute == "none" ? [] : tests.filter {
                $0.attributes.count > 1 && $0.attributes.contains(attribute) && $0.status == .fail
            }
            return classify(attribute: attribute, tests: own, pairedFailures: pairedFailures, baseline: baseline)
        }
    }

    static func classify(attribute: String, tests: [TestResult], pairedFailures: [TestResult] = [],
                         baseline: [TestResult]) -> AttributeConformance {
        func result(_ conformance: ConformanceClass, _ basis: String, _ evidence: [TestResult]) -> AttributeConformance {
            AttributeConformance(attribute: attribute, conformance: conformance, basis: basis, evidence: evidence.map(\.id))
        }
        let ran = tests.filter { $0.status != .notRun }
        guard !ran.isEmpty else { return result(.untested, "no test ran with this attribute", []) }

        let failed = ran.filter { $0.status == .fail } + pairedFailures
        if !failed.isEmpty {
            let reasons = Set(failed.compactMap { $0.observed["reason"] }).sorted().joined(separator: ", ")
            // Tell a reviewer whether the attribute adds the breakage or only shares the baseline's.
            let sharedWithBaseline = attribute != "none" && failed.allSatisfy { test in
                baseline.contains { $0.suite == test.suite && $0.parameters["size"] == test.parameters["size"]
                    && $0.status == .fail && $0.observed["reason"] == test.observed["reason"] }
            }
            let note = sharedWithBaseline ? " (the no-attribute baseline fails the same way at the same sizes)" : ""
            return result(.violated, "check failed: \(reasons.isEmpty ? "see tests" : reasons)\(note)", failed)
        }
        let allocations = ran.filter { $0.observed["ok"] != nil && !$0.isImpossibleRequest }
        let succeeded = allocations.filter { $0.observed["ok"] == "1" }
        if !allocations.isEmpty, succeeded.isEmpty {
            return result(.rejected, "every allocation with the attribute failed", allocations)
        }
        if attribute == "none" {
            return result(.honored, "allocations met every checked promise", ran)
        }
        if let (basis, evidence) = effect(of: attribute, on: ran, baseline: baseline) {
            return result(.honored, basis, evidence)
        }
        return result(.ignored, "accepted; no effect observable at allocation differed from the no-attribute baseline", ran)
    }

    /// The observable effect the documentation gives an attribute, when the evidence shows it.
    static func effect(of attribute: String, on tests: [TestResult], baseline: [TestResult]) -> (String, [TestResult])? {
        switch attribute {
        case "NO_KERNEL_MAPPING":
            // The guest compares the returned pointer with the buffer's own linear address without
            // dereferencing it; a pointer that is not a mapping of the buffer is the documented effect.
            let judged = tests.filter { $0.observed["cookie_is_buffer"] != nil }
            let cookies = judged.filter { $0.observed["cookie_is_buffer"] == "0" }
            return !cookies.isEmpty && cookies.count == judged.count
                ? ("returned a cookie that is not a kernel mapping of the buffer", cookies) : nil
        case "FORCE_CONTIGUOUS":
            let measured = tests.filter { $0.observed["contiguous"] != nil }
            let baselineScattered = baseline.contains { $0.observed["contiguous"] == "0" }
            return baselineScattered && !measured.isEmpty && measured.allSatisfy({ $0.observed["contiguous"] == "1" })
                ? ("physically contiguous where the baseline was not", measured) : nil
        case "NO_WARN":
            // Only a difference shows the effect: a failed allocation that warned without the
            // attribute and stayed silent with it, at the same size.
            func warned(_ test: TestResult) -> Bool {
                ["alloc_warnings", "alloc_failure_reports"].contains { (Int(test.observed[$0] ?? "0") ?? 0) > 0 }
            }
            let silent = tests.filter { $0.observed["ok"] == "0" && $0.observed["alloc_warnings"] != nil && !warned($0) }
            let contrasted = silent.filter { test in
                baseline.contains { $0.parameters["size"] == test.parameters["size"] && $0.observed["ok"] == "0" && warned($0) }
            }
            return contrasted.isEmpty ? nil : ("a failed allocation stayed silent where the baseline's warned", contrasted)
        case "ALLOC_SINGLE_PAGES":
            let scattered = tests.filter { $0.observed["contiguous"] == "0" }
            return scattered.isEmpty ? nil : ("built from separate pages", scattered)
        case "WRITE_COMBINE":
            let differing = tests.filter { test in
                guard let mapping = test.observed["mapping"] else { return false }
                return baseline.contains { $0.parameters["size"] == test.parameters["size"]
                    && $0.observed["mapping"] != nil && $0.observed["mapping"] != mapping }
            }
            return differing.isEmpty ? nil : ("kernel mapping differs from the baseline's (remapped)", differing)
        default:
            return nil
        }
    }
}
