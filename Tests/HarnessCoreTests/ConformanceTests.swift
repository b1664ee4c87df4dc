import Foundation
import Testing
@testable import HarnessCore

@Suite("Conformance classes")
struct ConformanceTests {
    func test(_ name: String, attrs: String, size: String = "4096", status: TestStatus = .pass,
              _ observed: [String: String]) -> TestResult {
        TestResult(id: "dma_alloc.\(name)", suite: "dma_alloc", name: name, number: 1, status: status, directive: nil,
                   parameters: ["attrs": attrs, "size": size], observed: observed, log: [])
    }

    @Test("the rules, one by one")
    func rules() {
        let baseline = [test("none_4096", attrs: "none", ["ok": "1", "mapping": "linear", "contiguous": "1"])]
        let tests = baseline + [
            test("nkm", attrs: "NO_KERNEL_MAPPING", ["ok": "1", "mapping": "cookie", "cookie_is_buffer": "0"]),
            test("wc", attrs: "WRITE_COMBINE", ["ok": "1", "mapping": "linear"]),
            test("fc", attrs: "FORCE_CONTIGUOUS", ["ok": "0"]),
            test("sp", attrs: "ALLOC_SINGLE_PAGES", status: .fail, ["ok": "1", "reason": "not_zeroed"]),
        ]
        let classes = Dictionary(uniqueKeysWithValues: ConformanceClassifier.classify(tests: tests).map { ($0.attribute, $0) })
        #expect(classes["none"]?.conformance == .honored)
        #expect(classes["NO_KERNEL_MAPPING"]?.conformance == .honored)
        #expect(classes["WRITE_COMBINE"]?.conformance == .ignored)
        #expect(classes["FORCE_CONTIGUOUS"]?.conformance == .rejected)
        #expect(classes["ALLOC_SINGLE_PAGES"]?.conformance == .violated)
        #expect(classes["ALLOC_SINGLE_PAGES"]?.evidence == ["dma_alloc.sp"])
        #expect(classes["PRIVILEGED"]?.conformance == .untested)
        #expect(classes.count == ConformanceClassifier.attributes.count)
    }

    @Test("a violation the baseline shares says so")
    func sharedViolation() {
        let misaligned = ["ok": "1", "reason": "misaligned"]
        let tests = [
            test("none_4194304", attrs: "none", size: "4194304", status: .fail, misaligned),
            test("wc_4194304", attrs: "WRITE_COMBINE", size: "4194304", status: .fail, misaligned),
            test("nkm_4194304", attrs: "NO_KERNEL_MAPPING", size: "4194304", status: .fail, ["ok": "1", "reason": "not_zeroed"]),
        ]
        let classes = Dictionary(uniqueKeysWithValues: ConformanceClassifier.classify(tests: tests).map { ($0.attribute, $0) })
        #expect(classes["WRITE_COMBINE"]?.conformance == .violated)
        #expect(classes["WRITE_COMBINE"]?.basis.contains("baseline fails the same way") == true)
        #expect(classes["NO_KERNEL_MAPPING"]?.conformance == .violated)
        #expect(classes["NO_KERNEL_MAPPING"]?.basis.contains("baseline") == false)
    }

    @Test("NO_KERNEL_MAPPING needs evidence that the pointer is not the buffer's mapping")
    func noKernelMappingEvidence() {
        let base = test("none_4096", attrs: "none", ["ok": "1", "mapping": "linear"])
        func nkm(_ observed: [String: String]) -> ConformanceClass? {
            ConformanceClassifier.classify(tests: [base, test("nkm", attrs: "NO_KERNEL_MAPPING", observed)])
                .first { $0.attribute == "NO_KERNEL_MAPPING" }?.conformance
        }
        #expect(nkm(["ok": "1", "mapping": "cookie"]) == .ignored, "no comparison made: no evidence of the effect")
        #expect(nkm(["ok": "1", "mapping": "cookie", "cookie_is_buffer": "1"]) == .ignored)
        #expect(nkm(["ok": "1", "mapping": "cookie", "cookie_is_buffer": "0"]) == .honored)
    }

    @Test("FORCE_CONTIGUOUS is judged on the tests that measured contiguity")
    func forceContiguousBehindAnIOMMU() {
        let tests = [
            test("none_65536", attrs: "none", ["ok": "1", "contiguous": "0"]),
            test("fc_65536", attrs: "FORCE_CONTIGUOUS", ["ok": "1", "contiguous": "1"]),
            TestResult(id: "dma_edu.fc_roundtrip", suite: "dma_edu", name: "fc_roundtrip", number: 1, status: .pass,
                       directive: nil, parameters: ["attrs": "FORCE_CONTIGUOUS"], observed: ["ok": "1", "roundtrip": "1"], log: []),
        ]
        let fc = ConformanceClassifier.classify(tests: tests).first { $0.attribute == "FORCE_CONTIGUOUS" }
        #expect(fc?.conformance == .honored)
        #expect(fc?.evidence == ["dma_alloc.fc_65536"])
    }

    @Test("NO_WARN is honored only against a baseline that warned")
    func noWarnNeedsContrast() {
        let quiet = test("impossible_no_warn", attrs: "NO_WARN", size: "4398046511104",
                         ["ok": "0", "ram_bytes": "479657984", "alloc_warnings": "0", "alloc_failure_reports": "0"])
        func noWarn(baselineWarnings: String) -> AttributeConformance? {
            let baseline = test("impossible_warn", attrs: "none", size: "4398046511104",
                                ["ok": "0", "ram_bytes": "479657984", "alloc_warnings": baselineWarnings,
                                 "alloc_failure_reports": "0"])
            return ConformanceClassifier.classify(tests: [baseline, quiet]).first { $0.attribute == "NO_WARN" }
        }
        #expect(noWarn(baselineWarnings: "1")?.conformance == .honored)
        #expect(noWarn(baselineWarnings: "1")?.evidence == ["dma_alloc.impossible_no_warn"])
        #expect(noWarn(baselineWarnings: "0")?.conformance == .ignored, "silent both ways shows no effect")
        #expect(noWarn(baselineWarnings: "0")?.conformance != .rejected, "failing an impossible request is no rejection")
    }

    @Test("a remapped write-combine buffer counts as its effect")
    func writeCombineRemapped() {
        let tests = [
            test("none_4096", attrs: "none", ["ok": "1", "mapping": "linear"]),
            test("wc_4096", attrs: "WRITE_COMBINE", ["ok": "1", "mapping": "vmalloc"]),
        ]
        let wc = ConformanceClassifier.classify(tests: tests).first { $0.attribute == "WRITE_COMBINE" }
        #expect(wc?.conformance == .honored)
        #expect(wc?.evidence == ["dma_alloc.wc_4096"])
    }
}
