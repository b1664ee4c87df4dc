import Foundation

/// Everything the verdict rules conclude about one target.
public struct TargetVerdicts: Sendable, Equatable {
    /// The baseline (`none`) and every single attribute, in `ConformanceAttributes.columns` order.
    public var attributes: [AttributeVerdict]
    /// The pairs the suite tested, judged only on what neither member nor the baseline shows.
    public var combinations: [AttributeVerdict]
    /// Every failed check, grouped by root cause, the most severe tier first.
    public var findings: [ContractFinding]
    public var vacuous: [VacuousCheck]
    /// Failed tests that do not fail the target, and why: every check they failed is a de-facto
    /// finding or a hint's outcome (NO_WARN warning anyway).
    public var excusedFailures: [String: String]

    /// The findings that fail the target (device-visible and CPU-letter).
    public var failingFindings: [ContractFinding] { findings.filter { $0.tier.failsTarget } }
}

/// The classifier: one pure function from a target's tests (and the facts measured with them) to
/// its verdicts. The rules are the same for every arch; nothing here knows what an arch should do.
public enum VerdictClassifier {
    public static func classify(tests: [TestResult], context: VerdictContext) -> TargetVerdicts {
        let path = DiscoveredPath(tests: tests)
        let vacuous = Vacuity.checks(in: tests, path: path, context: context)
        let failures = explainFailures(in: tests, path: path, context: context)
        let findings = group(failures.explained)
        let judge = Judge(tests: tests, failures: failures, findings: findings, path: path,
                          vacuousTests: Set(vacuous.filter(\.wholeTest).flatMap(\.tests)))
        let pairs = Set(tests.compactMap(\.attributeSet).filter { $0.contains("+") }).sorted()
        return TargetVerdicts(
            attributes: ConformanceAttributes.columns.map(judge.verdict(for:)),
            combinations: pairs.map(judge.combination),
            findings: findings, vacuous: vacuous, excusedFailures: failures.excused)
    }

    // MARK: - Failed checks

    struct Failures {
        /// Every non-hint failed check, explained (by a rule, or as `unexplained_<check>`).
        var explained: [ExplainedFailure]
        /// test id -> check -> its explanation.
        var byTest: [String: [String: ExplainedFailure]]
        var excused: [String: String]
    }

    /// A warning from a NO_WARN test is the hint not taken, which hints may do: its effect, not a broken promise.
    static func isHintOutcome(_ check: String, of test: TestResult) -> Bool {
        test.attributes.contains("NO_WARN") && ["warn_taint", "warned_despite_no_warn"].contains(check)
    }

    static func explainFailures(in tests: [TestResult], path: DiscoveredPath, context: VerdictContext) -> Failures {
        var explained: [ExplainedFailure] = []
        var hints: [String: [String]] = [:]
        for test in tests where test.status == .fail {
            for check in test.failedChecks {
                if isHintOutcome(check, of: test) {
                    hints[test.id, default: []].append(check)
                    continue
                }
                explained.append(RootCauseRules.explain(check, of: test, path: path, context: context)
                                 ?? RootCauseRules.unexplained(check, of: test))
            }
        }
        explained += RootCauseRules.unsatisfiableMasks(in: tests, path: path)
        explained += RootCauseRules.userVisibleNotZeroed(in: tests, path: path)
        explained += RootCauseRules.requiredMaskBelowRAM(in: tests, path: path)
        // A test that printed no address (dma_bench) takes the cause measured for the same request.
        for index in explained.indices where explained[index].rootCause.id.hasPrefix("unexplained_") {
            let failure = explained[index]
            let sameRequest = explained.first { other in
                !other.rootCause.id.hasPrefix("unexplained_") && other.check == failure.check
                    && other.test.attributeSet == failure.test.attributeSet
                    && other.test.parameters["size"] == failure.test.parameters["size"]
                    && other.test.parameters["gfp"] == failure.test.parameters["gfp"]
            }
            if let sameRequest, failure.test.observed["dma"] == nil, failure.test.observed["phys"] == nil {
                explained[index].rootCause = sameRequest.rootCause
                explained[index].detail = "no address printed; \(sameRequest.test.id), the same request, measured: \(sameRequest.detail)"
            }
        }
        var byTest: [String: [String: ExplainedFailure]] = [:]
        for failure in explained { byTest[failure.test.id, default: [:]][failure.check] = failure }

        var excused: [String: String] = [:]
        for test in tests where test.status == .fail {
            let checks = byTest[test.id]?.values.map { $0 } ?? []
            guard checks.allSatisfy({ !$0.rootCause.tier.failsTarget }) else { continue }
            var why = checks.map { "de-facto finding \($0.rootCause.id)" }
            if hints[test.id] != nil { why.append("NO_WARN is a hint: the allocation warned anyway") }
            excused[test.id] = Array(Set(why)).sorted().joined(separator: "; ")
        }
        return Failures(explained: explained, byTest: byTest, excused: excused)
    }

    /// The findings: failures grouped by root cause, the most severe first.
    static func group(_ explained: [ExplainedFailure]) -> [ContractFinding] {
        var order: [String] = []
        var groups: [String: [ExplainedFailure]] = [:]
        for failure in explained {
            if groups[failure.rootCause.id] == nil { order.append(failure.rootCause.id) }
            groups[failure.rootCause.id, default: []].append(failure)
        }
        let findings = order.map { id -> ContractFinding in
            let members = groups[id]!
            let cause = members[0].rootCause
            var checks: [String] = []
            for member in members where !checks.contains(member.check) { checks.append(member.check) }
            var tests: [String] = []
            for member in members where !tests.contains(member.test.id) { tests.append(member.test.id) }
            let sets = Set(members.map { $0.test.attributeSet ?? "none" })
            return ContractFinding(
                id: id, title: cause.title, tier: members.map { RootCauseRules.tier(of: $0.check) }.min() ?? cause.tier,
                checks: checks, promise: cause.promise, cause: cause.cause,
                evidence: members.map { FindingEvidence(test: $0.test.id, check: $0.check, detail: $0.detail) },
                tests: tests, inBaseline: sets.contains("none"), attributes: sets.sorted())
        }
        return findings.sorted { ($0.tier, $0.id) < ($1.tier, $1.id) }
    }
}

/// The per-attribute rules, over one target's explained failures.
private struct Judge {
    let tests: [TestResult]
    let failures: VerdictClassifier.Failures
    let findings: [ContractFinding]
    let path: DiscoveredPath
    let vacuousTests: Set<String>
    let baselineByKey: [String: [TestResult]]
    let bySetAndKey: [String: [TestResult]]
    /// Root causes the no-attribute baseline shows somewhere.
    let baselineFindingIDs: Set<String>

    init(tests: [TestResult], failures: VerdictClassifier.Failures, findings: [ContractFinding], path: DiscoveredPath,
         vacuousTests: Set<String>) {
        self.tests = tests
        self.failures = failures
        self.findings = findings
        self.path = path
        self.vacuousTests = vacuousTests
        baselineByKey = Dictionary(grouping: tests.filter { $0.attributeSet == "none" }, by: \.requestKey)
        bySetAndKey = Dictionary(grouping: tests.filter { $0.attributeSet != nil }, by: { "\($0.attributeSet!)#\($0.requestKey)" })
        baselineFindingIDs = Set(findings.filter(\.inBaseline).map(\.id))
    }

    func baseline(of test: TestResult) -> [TestResult] { baselineByKey[test.requestKey] ?? [] }


    func failure(_ test: TestResult, _ check: String) -> ExplainedFailure? { failures.byTest[test.id]?[check] }

    func verdict(for attribute: String) -> AttributeVerdict {
        let own = tests.filter { $0.attributeSet == attribute && $0.status != .notRun }
        if attribute == "none" { return baselineVerdict(own) }
        guard !own.isEmpty else { return untested(attribute) }
        let (added, inherited) = compare(own) { _ in [] }
        let effect = effect(of: attribute, own)
        let contract = ownContract(of: attribute, own)
        return finish(attribute, own, effect: effect, contract: contract, added: added, inherited: inherited)
    }

    /// A pair adds only what neither member alone nor the baseline shows at the same request.
    func combination(_ pair: String) -> AttributeVerdict {
        let own = tests.filter { $0.attributeSet == pair && $0.status != .notRun }
        guard !own.isEmpty else { return untested(pair) }
        let members = pair.split(separator: "+").map(String.init)
        let (added, inherited) = compare(own) { test in members.flatMap { bySetAndKey["\($0)#\(test.requestKey)"] ?? [] } }
        let effect = EffectJudgement(class: .unmeasured, measurement: "none",
                                     basis: "a pair is judged on the checks it adds; each member's effect is in its own verdict", evidence: [])
        let contract = OwnContract(state: .untested, promise: "the members' promises, judged in their own verdicts", basis: "", evidence: [])
        return finish(pair, own, effect: effect, contract: contract, added: added, inherited: inherited)
    }

    /// The checks `own` fails that the baseline (and `alsoExplainedBy`) keeps at the same request,
    /// and the baseline findings it shares.
    func compare(_ own: [TestResult], alsoExplainedBy: (TestResult) -> [TestResult]) -> ([AddedCheck], [String]) {
        var added: [AddedCheck] = []
        var inherited: [String] = []
        for test in own where test.status == .fail || failures.byTest[test.id] != nil {
            for (check, failure) in (failures.byTest[test.id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let base = baseline(of: test)
                if let shared = base.lazy.compactMap({ self.failure($0, check) }).first {
                    if !inherited.contains(shared.rootCause.id) { inherited.append(shared.rootCause.id) }
                    continue
                }
                if alsoExplainedBy(test).contains(where: { self.failure($0, check) != nil }) { continue }
                // The same root cause in the baseline at another request (the atomic pool's state
                // decides which request gets dirty memory) is shared, not added by the attribute.
                if !failure.rootCause.id.hasPrefix("unexplained_"), baselineFindingIDs.contains(failure.rootCause.id) {
                    if !inherited.contains(failure.rootCause.id) { inherited.append(failure.rootCause.id) }
                    continue
                }
                if let index = added.firstIndex(where: { $0.check == check && $0.finding == failure.rootCause.id }) {
                    added[index].tests.append(test.id)
                    added[index].baselineTests += base.map(\.id).filter { !added[index].baselineTests.contains($0) }
                } else {
                    added.append(AddedCheck(check: check, tier: RootCauseRules.tier(of: check), finding: failure.rootCause.id,
                                            tests: [test.id], baselineTests: base.map(\.id)))
                }
            }
        }
        return (added, inherited)
    }

    func finish(_ attribute: String, _ own: [TestResult], effect: EffectJudgement, contract: OwnContract,
                added: [AddedCheck], inherited: [String]) -> AttributeVerdict {
        let verdict: VerdictClass
        if !added.isEmpty || contract.state == .broken {
            verdict = .violated
        } else if isRejected(own) {
            verdict = .rejected
        } else {
            verdict = .conforming
        }
        var parts = [verdict == .conforming ? effect.class.rawValue : verdict.rawValue]
        if verdict != .conforming, effect.class != .unmeasured { parts[0] += " (\(effect.class.rawValue))" }
        if !added.isEmpty {
            parts.append("\(added.count) added" + (added.allSatisfy { !$0.tier.failsTarget } ? " (de-facto)" : ""))
        }
        if contract.state == .broken { parts.append("own contract broken") }
        if !inherited.isEmpty { parts.append("\(inherited.count) inherited") }
        return AttributeVerdict(attribute: attribute, verdict: verdict, cell: parts.joined(separator: " · "),
                                effect: effect, ownContract: contract, added: added, inherited: inherited,
                                evidence: own.map(\.id).filter { !vacuousTests.contains($0) })
    }

    /// Every allocation failed where the baseline's at the same request succeeded.
    func isRejected(_ own: [TestResult]) -> Bool {
        let comparable = own.filter { test in
            test.observed["ok"] != nil && !test.isImpossibleRequest
                && baseline(of: test).allSatisfy { $0.observed["ok"] != "0" }
        }
        return !comparable.isEmpty && comparable.allSatisfy { $0.observed["ok"] == "0" }
    }

    func untested(_ attribute: String) -> AttributeVerdict {
        AttributeVerdict(attribute: attribute, verdict: .untested, cell: "untested",
                         effect: EffectJudgement(class: .unmeasured, measurement: "none", basis: "no test ran with this attribute", evidence: []),
                         ownContract: OwnContract(state: .untested, promise: "", basis: "no test ran with this attribute", evidence: []),
                         added: [], inherited: [], evidence: [])
    }

    /// The baseline's verdict is its findings: what dma_alloc_attrs() without attributes broke.
    func baselineVerdict(_ own: [TestResult]) -> AttributeVerdict {
        guard !own.isEmpty else { return untested("none") }
        let baselineFindings = findings.filter(\.inBaseline)
        let failing = baselineFindings.filter { $0.tier.failsTarget }
        let contract = OwnContract(
            state: failing.isEmpty ? .kept : .broken,
            promise: "dma_alloc_attrs() without attributes: alignment, coherent mask, 64 KiB boundary, views, data through the device; zeroing (de-facto)",
            basis: failing.isEmpty
                ? (baselineFindings.isEmpty ? "every check held" : "only de-facto findings: \(baselineFindings.map(\.id).joined(separator: ", "))")
                : "broken: \(failing.map { "\($0.id) (\($0.tier.rawValue))" }.joined(separator: ", "))",
            evidence: failing.flatMap(\.tests))
        let effect = EffectJudgement(class: .notApplicable, measurement: "none",
                                     basis: "the baseline every attribute is compared with", evidence: [])
        var cell = failing.isEmpty ? "kept" : "violated"
        if !baselineFindings.isEmpty { cell += " · \(baselineFindings.count) finding\(baselineFindings.count == 1 ? "" : "s")" }
        return AttributeVerdict(attribute: "none", verdict: failing.isEmpty ? .conforming : .violated, cell: cell,
                                effect: effect, ownContract: contract, added: [], inherited: baselineFindings.map(\.id),
                                evidence: own.map(\.id).filter { !vacuousTests.contains($0) })
    }

    // MARK: - Effects

    /// Each attribute's rule: what it compares with the baseline at the same request, and the class it gives.
    func effect(of attribute: String, _ own: [TestResult]) -> EffectJudgement {
        switch attribute {
        case "FORCE_CONTIGUOUS": return forceContiguousEffect(own)
        case "ALLOC_SINGLE_PAGES": return singlePagesEffect(own)
        case "NO_KERNEL_MAPPING": return noKernelMappingEffect(own)
        case "WRITE_COMBINE": return writeCombineEffect(own)
        case "NO_WARN": return noWarnEffect(own)
        case "WEAK_ORDERING":
            return EffectJudgement(class: .unmeasured, measurement: "ordering of device writes",
                                   basis: "relaxed ordering is a property of the bus transaction (PCIe Relaxed Ordering); QEMU's edu device and TCG never reorder, so nothing in this run can observe it",
                                   evidence: [])
        case "SKIP_CPU_SYNC": return skipCPUSyncEffect(own)
        case "PRIVILEGED":
            if path.ops == "direct" {
                return EffectJudgement(class: .notApplicable, measurement: "the DMA path (dma_discovery ops=direct)",
                                       basis: "without an IOMMU there is no device mapping to carry a privilege bit", evidence: [])
            }
            return EffectJudgement(class: .unmeasured, measurement: "permission of the IOMMU mapping",
                                   basis: "the IOMMU page-table entry's privilege bit is not readable through the DMA or IOMMU API (iommu_iova_to_phys() returns no permissions)",
                                   evidence: [])
        default:
            return EffectJudgement(class: .unmeasured, measurement: "none", basis: "no rule for this attribute", evidence: [])
        }
    }

    /// (attribute test, baseline test) pairs at the same request that both satisfy `usable`.
    func peers(_ own: [TestResult], _ usable: (TestResult) -> Bool) -> [(TestResult, TestResult)] {
        own.filter(usable).flatMap { test in baseline(of: test).filter(usable).map { (test, $0) } }
    }

    func scattered(_ test: TestResult) -> Bool { (test.count("segments") ?? 1) > 1 || test.observed["contiguous"] == "0" }

    func forceContiguousEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "DMA segments and CPU-side contiguity, against the baseline at the same request"
        let measured = own.filter { $0.observed["ok"] == "1" && ($0.observed["segments"] != nil || $0.observed["contiguous"] != nil) }
        guard !measured.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement, basis: "no successful allocation reported its segments", evidence: [])
        }
        if let broken = measured.first(where: scattered) {
            return EffectJudgement(class: .ignored, measurement: measurement,
                                   basis: "\(broken.id) came back in \(broken.observed["segments"] ?? "?") segments (contiguous=\(broken.observed["contiguous"] ?? "?"))",
                                   evidence: measured.filter(scattered).map(\.id))
        }
        let contrasted = peers(measured) { $0.observed["ok"] == "1" }.filter { scattered($0.1) }
        if let (test, base) = contrasted.first {
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "contiguous where the baseline was not: \(test.id) 1 segment, \(base.id) \(base.observed["segments"] ?? "?") segments (\(contrasted.count) request(s))",
                                   evidence: contrasted.map(\.0.id))
        }
        return EffectJudgement(class: .indistinguishable, measurement: measurement,
                               basis: "the baseline was already contiguous at every request measured (\(measured.count); dma_discovery ops=\(path.ops ?? "?"))",
                               evidence: measured.map(\.id))
    }

    func singlePagesEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "DMA segments, against the baseline at the same request"
        let pairs = peers(own) { $0.observed["ok"] == "1" && $0.count("segments") != nil && ($0.requestedSize ?? 0) > path.pageSize }
        guard !pairs.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement,
                                   basis: "no multi-page allocation reported segments both with and without the attribute", evidence: [])
        }
        let more = pairs.filter { $0.0.count("segments")! > $0.1.count("segments")! }
        if let (test, base) = more.first {
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "built from separate pages: \(test.id) \(test.observed["segments"]!) segments, \(base.id) \(base.observed["segments"]!) (\(more.count) request(s))",
                                   evidence: more.map(\.0.id))
        }
        let alreadySingle = pairs.allSatisfy { pair in
            UInt64(pair.1.count("segments")!) >= ((pair.1.requestedSize ?? 0) + path.pageSize - 1) / path.pageSize
        }
        return EffectJudgement(class: alreadySingle ? .indistinguishable : .ignored, measurement: measurement,
                               basis: alreadySingle
                                   ? "the baseline is already one segment per page at every request compared (\(pairs.count))"
                                   : "the same segments as the baseline at every request compared (\(pairs.count))",
                               evidence: pairs.map(\.0.id))
    }

    /// SKIP_CPU_SYNC acts on unmap: with a bounced mapping, unmap copies the bounce buffer back
    /// only without it (dma_edu `streaming_unmap`, the swiotlb variant bounces every mapping).
    func skipCPUSyncEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "what the CPU reads after dma_unmap_single_attrs() of a streaming mapping edu wrote, against the baseline's unmap"
        let pairs = peers(own) { $0.observed["cpu_sees_device"] != nil && $0.observed["bounced"] != nil }
        guard !pairs.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement,
                                   basis: "the attribute acts only on dma_unmap_*_attrs and dma_sync_*, never at allocation, and no streaming unmap was measured both with and without it",
                                   evidence: [])
        }
        let bounced = pairs.filter { $0.0.observed["bounced"] == "1" && $0.1.observed["bounced"] == "1" }
        guard !bounced.isEmpty else {
            return EffectJudgement(class: .indistinguishable, measurement: measurement,
                                   basis: "the streaming mapping was not bounced (bounced=0): the device wrote the CPU's own buffer, so unmap had nothing to copy back either way (the swiotlb variant bounces)",
                                   evidence: pairs.map(\.0.id))
        }
        let skipped = bounced.filter {
            $0.0.observed["cpu_sees_device"] == "0" && $0.0.observed["cpu_stale"] == "1" && $0.1.observed["cpu_sees_device"] == "1"
        }
        if let (test, base) = skipped.first {
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "through a bounce buffer, \(base.id) saw edu's data after unmap and \(test.id) kept its stale contents: the copy back was skipped",
                                   evidence: skipped.map(\.0.id))
        }
        return EffectJudgement(class: .ignored, measurement: measurement,
                               basis: "through a bounce buffer the CPU saw edu's data after unmap with the attribute too (\(bounced[0].0.id))",
                               evidence: bounced.map(\.0.id))
    }

    func noKernelMappingEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "cookie kind: whether the pointer returned is the buffer's own kernel address"
        let judged = own.filter { $0.observed["cookie_is_buffer"] != nil }
        guard !judged.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement, basis: "no allocation reported its cookie", evidence: [])
        }
        let mapped = judged.filter { $0.observed["cookie_is_buffer"] == "1" }
        if mapped.isEmpty {
            let kinds = Set(judged.compactMap { $0.observed["cookie_kind"] }).sorted().joined(separator: ", ")
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "every pointer returned (\(judged.count)) is a cookie, not a kernel mapping of the buffer (cookie_kind: \(kinds))",
                                   evidence: judged.map(\.id))
        }
        return EffectJudgement(class: .ignored, measurement: measurement,
                               basis: "\(mapped.count) of \(judged.count) returned the buffer's own kernel address (allowed: platforms may ignore the attribute)",
                               evidence: mapped.map(\.id))
    }

    /// Two views of the memory type: the user mapping's `vm_page_prot` after dma_mmap_attrs(), and
    /// where the arch lets a module read it (`lookup_address()`), the kernel mapping's PTE cache bits.
    func writeCombineEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "memory type of the CPU mappings: vm_page_prot after dma_mmap_attrs(), and the kernel PTE's cache bits where readable (lookup_address), against the baseline's"
        var compared: [(key: String, test: TestResult, base: TestResult)] = []
        for key in ["vm_page_prot", "kernel_pte_cache"] {
            compared += peers(own) { $0.observed[key] != nil }.map { (key, $0.0, $0.1) }
        }
        guard !compared.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement,
                                   basis: "no mapping reported its memory type both with and without the attribute", evidence: [])
        }
        let differing = compared.filter { $0.test.observed[$0.key] != $0.base.observed[$0.key] }
        if let first = differing.first {
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "\(first.key) \(first.test.observed[first.key]!) where the baseline's is \(first.base.observed[first.key]!) (\(first.test.id))",
                                   evidence: Array(Set(differing.map(\.test.id))).sorted())
        }
        let keys = Set(compared.map(\.key)).sorted().joined(separator: " and ")
        return EffectJudgement(class: .ignored, measurement: measurement,
                               basis: "\(keys) the same as the baseline's at every mapping compared (\(compared.count))",
                               evidence: Array(Set(compared.map(\.test.id))).sorted())
    }

    func noWarnEffect(_ own: [TestResult]) -> EffectJudgement {
        let measurement = "allocation-failure reports counted per test: WARN splats, page allocation failures, cma_alloc failures"
        func warned(_ test: TestResult) -> Bool {
            ["alloc_warnings", "warnings", "alloc_failure_reports", "cma_failure_reports"].contains { (test.count($0) ?? 0) > 0 }
        }
        // The guest's counting console prints a count only when it is not zero; without the console
        // (dma_discovery warn_console=0) silence proves nothing.
        guard path.observed["warn_console"] == "1" else {
            return EffectJudgement(class: .unmeasured, measurement: measurement,
                                   basis: "the guest could not count console reports (dma_discovery warn_console=0)", evidence: [])
        }
        let failed: (TestResult) -> Bool = { $0.observed["ok"] == "0" }
        // NO_WARN alone against the baseline, and X+NO_WARN against X, at the same request.
        var pairs = peers(own, failed)
        for test in tests where test.attributes.count > 1 && test.attributes.contains("NO_WARN") && failed(test) {
            let rest = test.attributes.filter { $0 != "NO_WARN" }.joined(separator: "+")
            pairs += (bySetAndKey["\(rest)#\(test.requestKey)"] ?? []).filter(failed).map { (test, $0) }
        }
        guard !pairs.isEmpty else {
            return EffectJudgement(class: .unmeasured, measurement: measurement,
                                   basis: "no allocation failed both with and without the attribute at the same request", evidence: [])
        }
        let silenced = pairs.filter { warned($0.1) && !warned($0.0) }
        if let (test, base) = silenced.first {
            return EffectJudgement(class: .honored, measurement: measurement,
                                   basis: "a failed allocation stayed silent where the baseline's reported it (\(test.id) against \(base.id))",
                                   evidence: silenced.map(\.0.id))
        }
        let loud = pairs.filter { warned($0.0) }
        if !loud.isEmpty {
            return EffectJudgement(class: .ignored, measurement: measurement,
                                   basis: "warned with the attribute too (\(loud.map(\.0.id).joined(separator: ", "))); dma-attributes.rst: implemented only on PowerPC",
                                   evidence: loud.map(\.0.id))
        }
        return EffectJudgement(class: .indistinguishable, measurement: measurement,
                               basis: "neither side reported its failed allocation (\(pairs.count) compared)", evidence: pairs.map(\.0.id))
    }

    // MARK: - Own contracts

    func ownContract(of attribute: String, _ own: [TestResult]) -> OwnContract {
        switch attribute {
        case "FORCE_CONTIGUOUS":
            let promise = "one physically contiguous block (dma-attributes.rst, DMA_ATTR_FORCE_CONTIGUOUS)"
            let measured = own.filter { $0.observed["ok"] == "1" && ($0.observed["segments"] != nil || $0.observed["contiguous"] != nil) }
            let broken = own.filter { scattered($0) || failure($0, "not_contiguous") != nil }
            if !broken.isEmpty {
                return OwnContract(state: .broken, promise: promise, basis: "\(broken.count) allocation(s) not contiguous", evidence: broken.map(\.id))
            }
            return measured.isEmpty
                ? OwnContract(state: .untested, promise: promise, basis: "no successful allocation reported its segments", evidence: [])
                : OwnContract(state: .kept, promise: promise, basis: "every allocation measured (\(measured.count)) was one contiguous block", evidence: measured.map(\.id))
        case "NO_KERNEL_MAPPING":
            let promise = "the cookie works with dma_mmap_attrs() and dma_free_attrs(), and the memory is zeroed as seen through mmap (dma-attributes.rst, DMA_ATTR_NO_KERNEL_MAPPING)"
            let maps = own.filter { $0.suite == "dma_mmap" && $0.status != .skip }
            let failed = maps.filter { $0.status == .fail }
            let zero = maps.filter { $0.observed["user_zeroed"] != nil }
            if !failed.isEmpty || zero.contains(where: { $0.observed["user_zeroed"] == "0" }) {
                return OwnContract(state: .broken, promise: promise, basis: "mmap of the cookie failed or showed non-zero memory",
                                   evidence: (failed + zero.filter { $0.observed["user_zeroed"] == "0" }).map(\.id))
            }
            if maps.isEmpty || zero.isEmpty {
                return OwnContract(state: .untested, promise: promise,
                                   basis: maps.isEmpty ? "no mmap of a cookie ran" : "mmap and free of the cookie worked (\(maps.count) tests); zeroing seen from user space was not measured",
                                   evidence: maps.map(\.id))
            }
            return OwnContract(state: .kept, promise: promise,
                               basis: "\(maps.count) mmaps of the cookie worked, user space saw zeroed memory (\(zero.count)), and every free returned", evidence: maps.map(\.id))
        default:
            return OwnContract(state: .untested, promise: "none of its own: a hint, or a mapping property judged by its effect", basis: "", evidence: [])
        }
    }
}
