import Foundation

/// Checks the numbers reported under a plan, and names the ones it promised but never got.
enum KTAPPlan {
    /// At most this many `not_run` placeholders per plan.
    static let placeholderLimit = 1024

    /// The mismatch between `numbers` (as reported) and the plan `1..planned`; nil when they match exactly.
    static func mismatch(planned: Int, reported numbers: [Int]) -> PlanMismatch? {
        var seen = Set<Int>()
        var unplanned: [Int] = []
        for number in numbers {
            let inPlan = number >= 1 && number <= planned
            if inPlan, seen.insert(number).inserted { continue }
            unplanned.append(number)
        }
        let missing = planned - seen.count
        guard missing > 0 || !unplanned.isEmpty else { return nil }
        return PlanMismatch(planned: planned, reported: numbers.count, missing: missing, unplanned: unplanned)
    }

    /// The numbers of `1...planned` not in `numbers`, the first `placeholderLimit` of them.
    static func missingNumbers(planned: Int, reported numbers: [Int]) -> [Int] {
        let seen = Set(numbers)
        var missing: [Int] = []
        var candidate = 1
        // Bounded by the limit plus the numbers seen, not by the plan.
        while candidate <= planned, missing.count < placeholderLimit {
            if !seen.contains(candidate) { missing.append(candidate) }
            candidate += 1
        }
        return missing
    }

    /// Suites the top-level plan promised but the console never reported: `not_run`, with no tests.
    static func missingSuites(planned: Int?, reported suites: [SuiteResult]) -> [SuiteResult] {
        guard let planned else { return [] }
        return missingNumbers(planned: planned, reported: suites.map(\.number)).map { number in
            SuiteResult(name: "#\(number)", number: number, status: .notRun, directive: nil, plannedTests: nil,
                        complete: false, diagnostics: [], tests: [])
        }
    }
}

extension KTAPDocument {
    /// Each broken plan, in a phrase, top level first (empty when every plan was kept).
    public var planProblems: [String] {
        var problems = planMismatch.map { ["the top-level plan \($0.summary)"] } ?? []
        if sawHeader, plannedSuites == nil { problems.append("no top-level plan") }
        problems += suites.compactMap { suite in suite.planMismatch.map { "\(suite.name) \($0.summary)" } }
        return problems
    }
}
