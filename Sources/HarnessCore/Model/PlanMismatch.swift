import Foundation

/// How the results reported under a KTAP plan `1..N` differ from it. A plan promises exactly the
/// tests numbered 1 to N (Documentation/dev-tools/ktap.rst); a guest that reports more, fewer or
/// other numbers broke that promise, whatever each result said.
public struct PlanMismatch: Codable, Sendable, Equatable {
    /// N of the plan.
    public var planned: Int
    /// Result lines reported under it.
    public var reported: Int
    /// How many of the numbers 1...N were never reported; each is listed as `not_run` (up to
    /// `KTAPPlan.placeholderLimit`, so a plan of a billion costs nothing).
    public var missing: Int
    /// Numbers reported beyond the plan, or a second time, in the order reported. Their results are kept.
    public var unplanned: [Int]

    /// One phrase: `planned 45, reported 47: 46, 47 beyond the plan`.
    public var summary: String {
        var parts: [String] = []
        if missing > 0 { parts.append("\(missing) never reported (listed as not run)") }
        if !unplanned.isEmpty {
            let shown = unplanned.prefix(5).map(String.init).joined(separator: ", ")
            parts.append("\(shown)\(unplanned.count > 5 ? ", ..." : "") beyond the plan or repeated")
        }
        return "planned \(planned), reported \(reported): " + parts.joined(separator: "; ")
    }
}
