import Foundation

/// A test's outcome as KTAP reported it, or `notRun` when the guest died before reaching it.
public enum TestStatus: String, Codable, Sendable {
    case pass, fail, skip
    /// Planned but never reported: the guest crashed, hung or stopped first.
    case notRun = "not_run"
}

/// One KTAP test case with the values the guest measured for it.
public struct TestResult: Codable, Sendable, Equatable {
    /// Stable identifier: `<suite>.<test>`.
    public var id: String
    public var suite: String
    public var name: String
    /// Its number in the suite's plan.
    public var number: Int
    public var status: TestStatus
    /// The KTAP directive's text (`SKIP no_kernel_mapping`), if any.
    public var directive: String?
    /// Keys that describe what was asked (attrs, size, gfp, ...).
    public var parameters: [String: String]
    /// Keys that describe what the guest saw.
    public var observed: [String: String]
    /// Other console lines that arrived while the test ran (kernel warnings among them).
    public var log: [String]
    /// The span of console.log (1-based first and last line) from the end of the previous result to
    /// this test's result line; nil for a test that never ran.
    public var consoleLines: [Int]? = nil

    /// A request larger than the guest's RAM, made to fail on purpose (its failure is no rejection).
    public var isImpossibleRequest: Bool {
        guard let size = UInt64(parameters["size"] ?? ""), let ram = UInt64(observed["ram_bytes"] ?? "") else { return false }
        return size > ram
    }

    /// A timing the guest printed (`alloc_ns`, `alloc_p50_ns`, ...) in nanoseconds; nil unless it
    /// reads as a finite number of 0 or more (`Double` also reads `nan`, `-inf` and `1e999`, and a
    /// console can carry any text).
    public func nanoseconds(_ key: String) -> Double? {
        guard let value = observed[key].flatMap(Double.init), value.isFinite, value >= 0 else { return nil }
        return value
    }

    /// Whether the guest said this test provokes a kernel warning on purpose.
    public var expectsWarning: Bool { observed["warn_expected"] == "1" }

    /// The keys the guest uses for parameters; every other key is an observation (harness/PROTOCOL.md).
    public static let parameterKeys: Set<String> = ["attrs", "size", "gfp", "mask_bits", "offset", "direction", "loops", "threads"]

    /// The DMA attributes this test used, `[]` for none.
    public var attributes: [String] {
        guard let attrs = parameters["attrs"], attrs != "none" else { return [] }
        return attrs.split(separator: "+").map(String.init)
    }
}

/// One KTAP subtest of the top level: a family of checks.
public struct SuiteResult: Codable, Sendable, Equatable {
    public var name: String
    public var number: Int
    public var status: TestStatus
    public var directive: String?
    /// The plan's count, when the suite printed one.
    public var plannedTests: Int?
    /// Whether the suite printed its own result line (false when the guest died inside it).
    public var complete: Bool
    /// Diagnostic lines not tied to a test.
    public var diagnostics: [String]
    /// Every result reported, beyond the plan too, then a `not_run` placeholder per planned test never reported.
    public var tests: [TestResult]
    /// Set when the tests reported are not exactly the plan's 1..N.
    public var planMismatch: PlanMismatch? = nil
}

/// Everything KTAP said on one console.
public struct KTAPDocument: Codable, Sendable, Equatable {
    /// Whether a `KTAP version 1` header was seen at all.
    public var sawHeader: Bool
    public var plannedSuites: Int?
    /// Every suite reported, beyond the top-level plan too, then a `not_run` placeholder per planned suite never reported.
    public var suites: [SuiteResult]
    /// Set when the suites reported are not exactly the top-level plan's 1..N.
    public var planMismatch: PlanMismatch? = nil

    /// True when the top-level plan and every suite's plan were met: each planned suite and test
    /// reported exactly once, nothing beyond, every suite ended by its own result line.
    public var isComplete: Bool {
        guard sawHeader, plannedSuites != nil, planMismatch == nil else { return false }
        return suites.allSatisfy { $0.complete && $0.planMismatch == nil }
    }

    public var allTests: [TestResult] { suites.flatMap(\.tests) }
}
