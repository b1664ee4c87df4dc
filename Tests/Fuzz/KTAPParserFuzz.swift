import Foundation
@testable import HarnessCore

/// `KTAPParser().parse(console:)` on any console: it must return, and what it returns must hold
/// together: plans padded with not-run tests (up to a bound), console spans inside the console, ids
/// made of suite and name, and no complete document with a test that never ran. (ConsoleReplayFuzz
/// takes the document on through report.json.)
@_cdecl("LLVMFuzzerTestOneInput")
public func ktapParserFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let console = FuzzInput.text(FuzzInput.bytes(data, size))
    let document = KTAPParser().parse(console: console)

    let lineCount = console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
    for suite in document.suites {
        let notRun = suite.tests.filter { $0.status == .notRun }.count
        require(notRun <= KTAPPlan.placeholderLimit, "suite \(suite.name) lists \(notRun) tests as not run")
        if let plan = suite.plannedTests {
            require(suite.tests.count >= plan || notRun == KTAPPlan.placeholderLimit,
                    "suite \(suite.name) lists \(suite.tests.count) tests for a plan of \(plan)")
        }
        for test in suite.tests {
            require(test.id == "\(test.suite).\(test.name)", "test id \(test.id) is not <suite>.<name>")
            guard let span = test.consoleLines else {
                require(test.status == .notRun, "\(test.id) was reported but has no console span")
                continue
            }
            require(span.count == 2 && 1 <= span[0] && span[0] <= span[1] && span[1] <= lineCount,
                    "\(test.id) has console span \(span) in a console of \(lineCount) lines")
        }
    }
    if document.isComplete {
        require(document.sawHeader, "a complete document without a header")
        require(document.allTests.allSatisfy { $0.status != .notRun }, "a complete document with tests that never ran")
    }
    return 0
}
