import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Waiver {
    func matches(target id: String) -> Bool { Glob.matches(target, id) }
}

/// Reading a waiver file (`{"waivers": [...]}`) and applying it to a report.
public enum Waivers {
    private struct File: Codable { var waivers: [Waiver] }

    /// Loads and checks a waiver file: each entry needs a target, exactly one of test or
    /// attribute, a reason, and a well-formed expiry date when it has one.
    public static func load(from url: URL) throws -> [Waiver] {
        guard let data = try? Data(contentsOf: url) else {
            throw HarnessError.usage("cannot read waiver file \(url.path)")
        }
        let waivers: [Waiver]
        do {
            waivers = try JSONDecoder().decode(File.self, from: data).waivers
        } catch {
            throw HarnessError.usage("\(url.path) is not a waiver file: expected {\"waivers\": [{\"target\", \"test\", \"attribute\" or \"finding\", \"reason\", \"expires\"?}]}")
        }
        for (index, waiver) in waivers.enumerated() {
            let place = "\(url.path): waiver \(index)"
            if waiver.target.isEmpty { throw HarnessError.usage("\(place) has an empty target pattern") }
            if [waiver.test, waiver.attribute, waiver.finding].compactMap({ $0 }).count != 1 {
                throw HarnessError.usage("\(place) needs exactly one of \"test\", \"attribute\" or \"finding\"")
            }
            if waiver.reason.trimmingCharacters(in: .whitespaces).isEmpty {
                throw HarnessError.usage("\(place) has no reason: say why the deviation is expected")
            }
            if let expires = waiver.expires, Waiver.day(expires) == nil {
                throw HarnessError.usage("\(place) has expires '\(expires)'; use YYYY-MM-DD")
            }
        }
        return waivers
    }

    /// Applies `waivers` to `report`: returns the report with its `waivers` outcome set. The
    /// findings themselves are left as the guest reported them; renderers read the outcome.
    public static func apply(_ waivers: [Waiver], file: String, to report: RunReport, today: Date = Date()) -> RunReport {
        var outcome = WaiverOutcome(file: file, applied: [], stale: [], expired: [])
        var used = Set<Int>()
        // Judged once: a date parser is costly to make, and every target would ask again.
        let expired = waivers.map { $0.isExpired(on: today) }
        for (index, waiver) in waivers.enumerated() where expired[index] {
            outcome.expired.append(waiver)
            used.insert(index)
        }
        for target in report.targets where target.ran {
            var waivedTests: [String: (String, Int)] = [:]
            var waivedAttributes: [String: (String, Int)] = [:]
            var waivedFindings: [String: (String, Int)] = [:]
            let violated = (target.attributes + (target.combinations ?? [])).filter { $0.verdict == .violated }
            let failing = target.failingTests
            for (index, waiver) in waivers.enumerated() where !expired[index] && waiver.matches(target: target.id) {
                var hit = false
                if let pattern = waiver.test {
                    for test in failing where Glob.matches(pattern, test.id) && waivedTests[test.id] == nil {
                        waivedTests[test.id] = (waiver.reason, index)
                        hit = true
                    }
                }
                if let name = waiver.attribute.map(normalizedAttribute) {
                    for attribute in violated where attribute.attribute.uppercased() == name && waivedAttributes[attribute.attribute] == nil {
                        waivedAttributes[attribute.attribute] = (waiver.reason, index)
                        // The attribute's failing evidence is what the waiver is about.
                        for id in attribute.failingEvidence where failing.contains(where: { $0.id == id }) && waivedTests[id] == nil {
                            waivedTests[id] = (waiver.reason, index)
                        }
                        hit = true
                    }
                }
                if let pattern = waiver.finding {
                    for finding in target.contractFindings ?? [] where Glob.matches(pattern, finding.id) && waivedFindings[finding.id] == nil {
                        waivedFindings[finding.id] = (waiver.reason, index)
                        for id in finding.tests where failing.contains(where: { $0.id == id }) && waivedTests[id] == nil {
                            waivedTests[id] = (waiver.reason, index)
                        }
                        hit = true
                    }
                }
                if hit { used.insert(index) }
            }
            // An attribute violated only by waived tests is itself expected.
            for attribute in violated where waivedAttributes[attribute.attribute] == nil {
                let failed = attribute.failingEvidence.filter { id in failing.contains { $0.id == id } }
                if !failed.isEmpty, let first = failed.first.flatMap({ waivedTests[$0] }), failed.allSatisfy({ waivedTests[$0] != nil }) {
                    waivedAttributes[attribute.attribute] = first
                }
            }
            outcome.applied += waivedTests.sorted { $0.key < $1.key }.map {
                WaivedFinding(target: target.id, kind: .test, subject: $0.key, reason: $0.value.0, waiver: $0.value.1)
            }
            outcome.applied += waivedAttributes.sorted { $0.key < $1.key }.map {
                WaivedFinding(target: target.id, kind: .attribute, subject: $0.key, reason: $0.value.0, waiver: $0.value.1)
            }
            outcome.applied += waivedFindings.sorted { $0.key < $1.key }.map {
                WaivedFinding(target: target.id, kind: .finding, subject: $0.key, reason: $0.value.0, waiver: $0.value.1)
            }
        }
        // Stale only where the waiver could have spoken: some target it names ran in this report.
        for (index, waiver) in waivers.enumerated() where !used.contains(index) {
            if report.targets.contains(where: { $0.ran && waiver.matches(target: $0.id) }) { outcome.stale.append(waiver) }
        }
        var waived = report
        waived.waivers = outcome
        return waived
    }

    /// `DMA_ATTR_WRITE_COMBINE`, `write_combine` and `WRITE_COMBINE` name the same attribute.
    static func normalizedAttribute(_ name: String) -> String {
        let upper = name.uppercased()
        return upper.hasPrefix("DMA_ATTR_") ? String(upper.dropFirst("DMA_ATTR_".count)) : upper
    }
}

extension RunReport {
    /// The waiver that made this test's failure expected, if any.
    public func waiver(target: String, test: String) -> WaivedFinding? {
        waivers?.applied.first { $0.target == target && $0.kind == .test && $0.subject == test }
    }

    /// The waiver that made this finding (by root cause) expected, if any.
    public func waiver(target: String, finding: String) -> WaivedFinding? {
        waivers?.applied.first { $0.target == target && $0.kind == .finding && $0.subject == finding }
    }

    /// The waiver that made this attribute's violation expected, if any.
    public func waiver(target: String, attribute: String) -> WaivedFinding? {
        waivers?.applied.first { $0.target == target && $0.kind == .attribute && $0.subject == attribute }
    }

    /// The target's status once waivers are counted: a `failed` target whose every failure is
    /// waived, and which is otherwise clean, counts as passed (XFAIL). Crashes are never waived.
    public func effectiveStatus(of target: TargetReport) -> TargetStatus {
        guard target.status == .failed, waivers != nil, target.ktapComplete else { return target.status }
        let waivedFindings = Set(waivers?.applied.filter { $0.target == target.id && $0.kind == .finding }.map(\.subject) ?? [])
        let findings = target.contractFindings
        // The findings still standing: not waived, and not made only of waived tests.
        let standing = findings?.filter { finding in
            !waivedFindings.contains(finding.id) && !finding.tests.allSatisfy { waiver(target: target.id, test: $0) != nil }
        }
        // Failing tests that never failed the target: every finding they belong to is de-facto or waived.
        let excused = Set(target.failingTests.filter { test in
            guard let findings else { return false }
            return findings.filter { $0.tests.contains(test.id) }.allSatisfy { !$0.tier.failsTarget || waivedFindings.contains($0.id) }
        }.map(\.id))
        let failing = target.failingTests.filter { !excused.contains($0.id) }
        guard failing.allSatisfy({ waiver(target: target.id, test: $0.id) != nil }) else { return target.status }
        // Judge the target again as if the waived tests had passed: anything else wrong still fails it.
        let suites = target.suites.map { suite -> SuiteResult in
            var suite = suite
            suite.tests = suite.tests.map { test in
                var test = test
                if test.status == .fail { test.status = .pass }
                return test
            }
            if suite.status == .fail, target.suites.first(where: { $0.name == suite.name })?.tests.contains(where: { $0.status == .fail }) == true {
                suite.status = .pass
            }
            return suite
        }
        let document = KTAPDocument(sawHeader: true, plannedSuites: suites.count, suites: suites)
        let verdicts = TargetVerdicts(attributes: [], combinations: [], findings: standing ?? [], vacuous: [], excusedFailures: [:])
        let (status, _) = ResultCollector.judge(document: document, findings: target.findings, consoleLines: [],
                                                ending: .poweredOff, detail: "", consoleCut: target.consoleCut, verdicts: verdicts)
        return status == .passed ? .passed : target.status
    }

    /// Whether the target's failures are all expected (it failed, and waivers cover every failure).
    public func isWaived(_ target: TargetReport) -> Bool {
        target.status == .failed && effectiveStatus(of: target) == .passed
    }
}

extension AttributeVerdict {
    /// The tests a waiver of this attribute is about: what it added, or for a 1.x report its evidence.
    var failingEvidence: [String] { added.isEmpty ? evidence : added.flatMap(\.tests) }
}

/// Shell-style globs (`*`, `?`, `[...]`) through fnmatch(3), as the waiver file and `--target` use.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }
}
