import Foundation

/// A report in KCIDB's I/O schema (kcidb-io, version 5.3), for submission to the Linux kernel CI
/// database: one checkout per kernel booted, one build per target (the guest driver and initramfs
/// built against that kernel), and tests under the `dma_harness` path.
///
/// KCIDB's FAIL means "the tested code is faulty", so only the kernel's own failures use it: a
/// failed check, a violated attribute, a guest that crashed. What the harness could not do is never
/// FAIL: a host-side stage that failed or an interrupted run is MISS, a hang is ERROR (the kernel's
/// state is unknown), a test the guest never reached is MISS, an unsupported pair is SKIP.
public enum KCIDBReport {
    /// The KCIDB schema version this writes.
    public static let schemaMajor = 5
    public static let schemaMinor = 3

    /// `origin` must match `^[a-z0-9_]+$`; `logURLBase`, when given, turns the report's relative
    /// log paths into URLs (KCIDB wants absolute URIs, so without it no `log_url` is written).
    public static func render(_ report: RunReport, origin: String = "dma_harness", logURLBase: String? = nil) throws -> Data {
        guard origin.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw HarnessError.usage("--origin '\(origin)' must be lower-case letters, digits and _ (KCIDB's origin pattern)")
        }
        let run = runKey(report)
        let started = iso(report.run.startedAt)
        var checkouts: [String: [String: Any]] = [:]
        var builds: [[String: Any]] = []
        var tests: [[String: Any]] = []

        for target in report.targets {
            let checkoutID = "\(origin):\(run):\(pathSafe(checkoutName(target)))"
            if checkouts[checkoutID] == nil {
                checkouts[checkoutID] = checkout(target, id: checkoutID, origin: origin, started: started)
            }
            let buildID = "\(origin):\(run):\(target.id)"
            builds.append(build(target, id: buildID, checkoutID: checkoutID, origin: origin, started: started,
                                logURLBase: logURLBase))
            let environment: [String: Any] = ["comment": "QEMU \(target.machine) \(target.cpu), variant \(target.variant)"]
            func test(_ path: String, _ status: String, _ extra: [String: Any]) {
                var node: [String: Any] = ["id": "\(buildID):\(path)", "build_id": buildID, "origin": origin,
                                           "path": path, "status": status, "start_time": started,
                                           "environment": environment]
                node.merge(extra) { _, new in new }
                tests.append(node)
            }
            var summary: [String: Any] = ["comment": target.reason ?? target.status.rawValue,
                                          "misc": ["harness_status": target.status.rawValue]]
            if let seconds = target.boot?.guestSeconds { summary["duration"] = seconds }
            if let console = target.logs.console, let base = logURLBase { summary["log_url"] = url(base, console) }
            if let fatal = target.findings.first(where: { $0.kind != .warning }) {
                summary["log_excerpt"] = excerpt(([fatal.summary] + fatal.excerpt).joined(separator: "\n"))
            }
            test("dma_harness", targetStatus(target), summary)

            for attribute in target.attributes {
                var misc: [String: Any] = [
                    "verdict": attribute.verdict.rawValue, "cell": attribute.cell, "effect": attribute.effect.class.rawValue,
                    "measurement": attribute.effect.measurement, "own_contract": attribute.ownContract.state.rawValue,
                    "added": attribute.added.map { "\($0.check):\($0.finding)" }, "inherited": attribute.inherited,
                    "evidence": attribute.evidence,
                ]
                if let waiver = report.waiver(target: target.id, attribute: attribute.attribute) { misc["waived"] = waiver.reason }
                test("dma_harness.conformance.\(pathSafe(attribute.attribute))", attributeStatus(attribute.verdict),
                     ["comment": "\(attribute.cell): \(attribute.effect.basis)", "misc": misc])
            }
            for finding in target.contractFindings ?? [] {
                var misc: [String: Any] = ["tier": finding.tier.rawValue, "checks": finding.checks, "tests": finding.tests,
                                           "in_baseline": finding.inBaseline, "promise": MarkdownReport.citation(finding.promise)]
                if let cause = finding.cause { misc["cause"] = "\(cause.file) \(cause.function)(): \(cause.mechanism)" }
                test("dma_harness.findings.\(pathSafe(finding.id))", finding.tier.failsTarget ? "FAIL" : "DONE",
                     ["comment": finding.title, "misc": misc])
            }
            for result in target.allTests {
                var misc: [String: Any] = ["parameters": result.parameters, "observed": result.observed]
                if let lines = result.consoleLines { misc["console_lines"] = lines }
                if let waiver = report.waiver(target: target.id, test: result.id) { misc["waived"] = waiver.reason }
                var extra: [String: Any] = ["misc": misc]
                if result.status == .fail { extra["comment"] = result.evidenceSummary }
                if let directive = result.directive { extra["comment"] = directive }
                if !result.log.isEmpty { extra["log_excerpt"] = excerpt(result.log.joined(separator: "\n")) }
                if let p50 = result.nanoseconds("alloc_p50_ns") {
                    extra["number"] = ["value": p50, "unit": "ns"]
                }
                test("dma_harness.\(pathSafe(result.suite)).\(pathSafe(result.name))", testStatus(result.status), extra)
            }
        }
        let object: [String: Any] = [
            "version": ["major": schemaMajor, "minor": schemaMinor],
            "checkouts": checkouts.keys.sorted().map { checkouts[$0]! },
            "builds": builds,
            "tests": tests,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func checkout(_ target: TargetReport, id: String, origin: String, started: String) -> [String: Any] {
        var node: [String: Any] = ["id": id, "origin": origin, "start_time": started]
        guard let kernel = target.kernel else {
            node["comment"] = "no kernel was provisioned"
            return node
        }
        node["git_commit_name"] = kernel.release
        switch kernel.provenance {
        case .debian(let packages, let suite):
            // Reports older than 2.1 carry no suite: those were all bookworm's.
            node["tree_name"] = "debian-\(suite ?? target.suite ?? "bookworm")"
            node["comment"] = packages.map { "\($0.name) \($0.version)" }.joined(separator: ", ")
            node["misc"] = ["packages": packages.map { ["name": $0.name, "version": $0.version, "sha256": $0.sha256] }]
        case .user(let file, let sha256, let kbuild):
            node["tree_name"] = "user"
            node["comment"] = "user kernel \(file) built in \(kbuild)"
            node["misc"] = ["kernel_sha256": sha256]
        }
        node["valid"] = true
        return node
    }

    static func build(_ target: TargetReport, id: String, checkoutID: String, origin: String, started: String,
                      logURLBase: String?) -> [String: Any] {
        var node: [String: Any] = ["id": id, "checkout_id": checkoutID, "origin": origin, "start_time": started,
                                   "architecture": pathSafe(target.arch).lowercased(), "config_name": target.id,
                                   "comment": "dma_harness guest driver and initramfs for \(target.id)"]
        if let build = target.stages.first(where: { $0.stage == .build }) { node["duration"] = build.seconds }
        if let vermagic = target.kernel?.moduleVermagic { node["compiler"] = vermagic }
        if let log = target.logs.moduleBuild, let base = logURLBase { node["log_url"] = url(base, log) }
        var misc: [String: Any] = ["machine": target.machine, "cpu": target.cpu, "variant": target.variant]
        if let arguments = target.kernel?.kernelArguments { misc["kernel_arguments"] = arguments }
        node["misc"] = misc
        node["status"] = buildStatus(target)
        return node
    }

    /// The build is the harness's own work: it can pass, err or be missed, never FAIL the kernel.
    static func buildStatus(_ target: TargetReport) -> String {
        if target.status == .unsupported { return "SKIP" }
        switch target.stages.first(where: { $0.stage == .build })?.status {
        case .ok?: return "PASS"
        case .failed?: return "ERROR"
        default: return "MISS"
        }
    }

    static func targetStatus(_ target: TargetReport) -> String {
        switch target.status {
        case .passed: return "PASS"
        case .failed, .crashed: return "FAIL"
        case .timedOut: return "ERROR"
        case .error, .interrupted: return "MISS"
        case .unsupported: return "SKIP"
        }
    }

    static func attributeStatus(_ verdict: VerdictClass) -> String {
        switch verdict {
        case .violated: return "FAIL"
        case .conforming, .rejected: return "PASS"
        case .untested: return "SKIP"
        }
    }

    static func testStatus(_ status: TestStatus) -> String {
        switch status {
        case .pass: return "PASS"
        case .fail: return "FAIL"
        case .skip: return "SKIP"
        case .notRun: return "MISS"
        }
    }

    static func checkoutName(_ target: TargetReport) -> String {
        guard let kernel = target.kernel else { return "no-kernel" }
        if case .debian(let packages, _) = kernel.provenance, let image = packages.first {
            return "\(kernel.release)_\(image.version)"
        }
        return kernel.release
    }

    /// One run's key: host and start time, so two runs never share an id.
    static func runKey(_ report: RunReport) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "\(pathSafe(report.run.host.hostname))-\(formatter.string(from: report.run.startedAt))"
    }

    /// A KCIDB path segment allows `[a-zA-Z0-9_-]`; anything else (the `#3` of a never-reported
    /// test, a dot in a version) becomes `_`.
    static func pathSafe(_ text: String) -> String {
        let mapped = String(text.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || scalar == "_" || scalar == "-" ? Character(scalar) : "_"
        })
        return mapped.isEmpty ? "_" : mapped
    }

    static func excerpt(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\0", with: "")
        return clean.count > 16000 ? String(clean.prefix(16000)) : clean
    }

    static func url(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? base : base + "/") + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
