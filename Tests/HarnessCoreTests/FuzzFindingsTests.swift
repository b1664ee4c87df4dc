import Foundation
import Testing
@testable import HarnessCore

/// Bugs the fuzz targets (Tests/Fuzz) found, each from the input that found it.
@Suite("inputs the fuzzers found")
struct FuzzFindingsTests {
    @Test("a mangled suite plan (1..16777216) lists a bounded number of tests as not run")
    func hugePlan() throws {
        let document = KTAPParser().parse(console: try Fixture.fuzzInput("ktap-plan-16777216.log"))
        let suite = try #require(document.suites.first { $0.plannedTests == 16_777_216 })
        let notRun = suite.tests.filter { $0.status == .notRun }
        #expect(notRun.count == KTAPParser.maxNotRunListed)
        #expect(notRun.map(\.number) == Array(suite.tests.count - notRun.count + 1...suite.tests.count))
        #expect(!document.isComplete)
    }
}
