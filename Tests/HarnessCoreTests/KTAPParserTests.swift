import Foundation
import Testing
@testable import HarnessCore

@Suite("KTAP extraction from recorded consoles")
struct KTAPParserTests {
    @Test("a complete run is parsed whole on every arch",
          arguments: ["arm-direct", "arm64-direct", "x86_64-direct", "arm64-smmuv3", "arm-noncoherent"])
    func completeRun(name: String) throws {
        let console = try Fixture.console(name)
        let document = KTAPParser().parse(console: console)

        #expect(document.sawHeader)
        #expect(document.isComplete)
        // Counts come from the raw text, not from the parser.
        let suitePlans = Fixture.rawPlans(console, indent: 4)
        #expect(document.plannedSuites == Fixture.rawPlans(console, indent: 0).first)
        // Skipped suites print no plan of their own.
        #expect(document.suites.compactMap(\.plannedTests) == suitePlans)
        #expect(document.allTests.count == Fixture.rawResultLines(console, indent: 4).count)
        #expect(document.suites.count == Fixture.rawResultLines(console, indent: 0).count)
        #expect(document.allTests.allSatisfy { $0.status != .notRun })
        #expect(Set(document.allTests.map(\.id)).count == document.allTests.count, "test ids are unique")
    }

    @Test("values stay with their own test despite the printk prefix", arguments: ["arm-direct", "arm64-direct", "x86_64-direct"])
    func valuesBelongToTheirTest(name: String) throws {
        let console = try Fixture.console(name)
        let document = KTAPParser().parse(console: console)
        let allocations = try #require(document.suites.first { $0.name == "dma_alloc" })
        for test in allocations.tests {
            let attrs = try #require(test.parameters["attrs"], "\(test.id) has attrs")
            let size = try #require(test.parameters["size"], "\(test.id) has size")
            // The module names a test <attrs>_<size> (pairs joined by _and_): the keys must agree with
            // the name they were filed under.
            #expect(test.name == "\(attrs.lowercased().replacingOccurrences(of: "+", with: "_and_"))_\(size)")
            // Each diagnostic line exists verbatim in the raw console.
            #expect(console.contains("# \(test.name): attrs=\(attrs) size=\(size) "))
            #expect(test.observed["ok"] != nil)
        }
    }

    @Test("a panic mid-suite keeps every result printed before it")
    func panicMidSuite() throws {
        let console = try Fixture.console("arm64-panic")
        let document = KTAPParser().parse(console: console)
        #expect(!document.isComplete)
        // The guest was booted with dma_harness.fault=panic_after:5: five KTAP result lines, suites' own included.
        let reported = document.allTests.filter { $0.status != .notRun }.count
        #expect(reported + document.suites.filter(\.complete).count == 5)
        // The suite the panic interrupted is the last one that reported anything; the top-level plan's
        // other suites follow it as not-run placeholders.
        let unfinishedIndex = try #require(document.suites.lastIndex { !$0.tests.isEmpty })
        let unfinished = document.suites[unfinishedIndex]
        #expect(!unfinished.complete)
        if let plan = unfinished.plannedTests {
            #expect(unfinished.tests.count == plan, "the rest of the plan is listed as not run")
        }
        let neverReached = document.suites[(unfinishedIndex + 1)...]
        #expect(neverReached.allSatisfy { $0.status == .notRun && !$0.complete })
        #expect(document.suites.count == document.plannedSuites, "every planned suite is listed")

        let collected = ResultCollector.collect(console: console, ending: .panicked, detail: "kernel panic")
        #expect(collected.status == .crashed)
        let panic = try #require(collected.findings.first { $0.kind == .panic })
        #expect(panic.summary.hasPrefix("Kernel panic - not syncing"))
        let lines = console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        #expect(lines[panic.line - 1].contains("Kernel panic - not syncing"), "finding points at the right console line")
        #expect(collected.reason?.contains("\(reported) test(s) reported") == true)
    }

    @Test("a hung guest is reported as timed out with what it printed")
    func hang() throws {
        let console = try Fixture.console("x86_64-hang")
        let collected = ResultCollector.collect(console: console, ending: .timedOut, detail: "no power-off within the timeout")
        #expect(collected.status == .timedOut)
        #expect(!collected.document.isComplete)
        #expect(collected.findings.allSatisfy { $0.kind != .panic })
    }

    @Test("a broken promise fails the target, and every failed check is in a finding by root cause")
    func violationsBehindAnIOMMU() throws {
        let console = try Fixture.console("arm64-smmuv3")
        let collected = ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
        let failing = collected.document.allTests.filter { $0.status == .fail }
        #expect(failing.count == Fixture.rawResultLines(console, indent: 4).filter { $0.contains("not ok") }.count)
        #expect(!failing.isEmpty)
        #expect(collected.status == .failed)
        // Each check the guest's reason names (split on +) is explained by exactly one finding,
        // unless it is NO_WARN's hint outcome.
        for test in failing {
            for check in (test.observed["reason"] ?? "failed").split(separator: "+").map(String.init)
            where !(test.attributes.contains("NO_WARN") && check.hasPrefix("warn")) {
                let holders = collected.verdicts.findings.filter { finding in
                    finding.evidence.contains { $0.test == test.id && $0.check == check }
                }
                #expect(holders.count == 1, "\(test.id) \(check)")
            }
        }
    }

    @Test("a warning the guest provoked on purpose stays with its test and does not fail the target")
    func expectedWarning() throws {
        let console = try Fixture.console("x86_64-direct")
        let collected = ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
        let warnings = collected.findings.filter { $0.kind == .warning }
        try #require(!warnings.isEmpty, "the recorded x86_64 run provoked an allocation warning")
        let owners = collected.document.allTests.filter(\.expectsWarning).compactMap(\.consoleLines)
        for warning in warnings {
            #expect(owners.contains { ($0[0]...$0[1]).contains(warning.line) }, "warning at line \(warning.line) has an owner")
        }
        #expect(collected.document.allTests.allSatisfy { $0.status != .fail })
        #expect(collected.status == .passed, "\(collected.reason ?? "")")

        // The same console with the test's declaration removed: the warning then fails the target.
        let undeclared = console.replacingOccurrences(of: " warn_expected=1", with: "")
        let strict = ResultCollector.collect(console: undeclared, ending: .poweredOff, detail: "powered off")
        #expect(strict.status == .failed)
        #expect(strict.reason?.contains("kernel warning") == true)
    }

    @Test("edu's clamp reports in QEMU's log fail the target, whatever the guest concluded")
    func eduClampInQEMULog() throws {
        let console = try Fixture.console("arm64-edu-clamp")
        let qemuLog = String(decoding: try Data(contentsOf: Fixture.folder.appendingPathComponent("qemu-arm64-edu-clamp.log")),
                             as: UTF8.self)
        let rawClamps = qemuLog.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("EDU: clamping DMA ") }
        try #require(!rawClamps.isEmpty, "the recorded run's QEMU log has clamp lines")

        let collected = ResultCollector.collect(console: console, qemuLog: qemuLog, ending: .poweredOff, detail: "powered off")
        let clamps = collected.findings.filter { $0.kind == .eduClamp }
        #expect(clamps.count == rawClamps.count)
        #expect(clamps.allSatisfy { $0.log == "qemu.log" })
        #expect(collected.status == .failed)
        #expect(collected.reason?.contains("edu clamped \(rawClamps.count)") == true)

        // Without QEMU's log the same console alone cannot show it.
        let consoleOnly = ResultCollector.collect(console: console, ending: .poweredOff, detail: "powered off")
        #expect(!consoleOnly.findings.contains { $0.kind == .eduClamp })
    }

    @Test("result lines: directives and descriptions")
    func resultLineGrammar() throws {
        let skip = try #require(ResultLine("ok 4 no_kernel_mapping_roundtrip # SKIP no_kernel_mapping"))
        #expect(skip.status == .skip && skip.number == 4 && skip.name == "no_kernel_mapping_roundtrip")
        #expect(skip.directive == "SKIP no_kernel_mapping")
        let failure = try #require(ResultLine("not ok 12 - none_1"))
        #expect(failure.status == .fail && failure.name == "none_1" && failure.directive == nil)
        #expect(ResultLine("okay 1 x") == nil)
        #expect(ConsoleText.stripPrintkPrefix("[    1.093290] ok 2 dma_alloc\r") == "ok 2 dma_alloc")
        #expect(ConsoleText.stripPrintkPrefix("[not a stamp] text") == "[not a stamp] text")
    }
}
