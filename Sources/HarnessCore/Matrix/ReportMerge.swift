import Foundation

/// `harness merge`: shard reports joined into one, as if one run had booted every target.
public enum ReportMerge {
    /// Joins `reports` (with the names they were given, for messages). Targets are concatenated
    /// and sorted by id; the same id in two shards is a usage error (two answers for one cell
    /// cannot both be kept). The run's metadata is the earliest start, the latest finish (none if
    /// any shard did not finish), the first shard's host and version facts, and every shard's
    /// interruption; each shard's own metadata is kept in `mergedFrom`.
    public static func merge(_ reports: [(name: String, report: RunReport)]) throws -> RunReport {
        guard let first = reports.first else { throw HarnessError.usage("merge needs at least one input report") }
        var owner: [String: String] = [:]
        var targets: [TargetReport] = []
        for (name, report) in reports {
            for target in report.targets {
                if let other = owner[target.id] {
                    throw HarnessError.usage("target \(target.id) is in both \(other) and \(name): shards must not overlap")
                }
                owner[target.id] = name
                targets.append(target)
            }
        }
        let versions = Set(reports.map(\.report.run.harnessVersion))
        if versions.count > 1 {
            throw HarnessError.usage("shard reports come from different harness versions (\(versions.sorted().joined(separator: ", "))): merge reports of one build")
        }
        var run = first.report.run
        run.startedAt = reports.map(\.report.run.startedAt).min()!
        let finishes = reports.map(\.report.run.finishedAt)
        run.finishedAt = finishes.contains { $0 == nil } ? nil : finishes.compactMap { $0 }.max()
        let interruptions = reports.compactMap { entry in entry.report.run.interruption.map { "\(entry.name): \($0)" } }
        run.interruption = interruptions.isEmpty ? nil : interruptions.joined(separator: "; ")
        run.commandLine = ["harness", "merge"] + reports.map(\.name)
        var merged = RunReport(run: run, targets: targets.sorted { $0.id < $1.id })
        // A shard that was itself a merge contributes its own shards, so the history stays flat.
        merged.mergedFrom = reports.flatMap { $0.report.mergedFrom ?? [$0.report.run] }
        return merged
    }
}

extension ReportMerge {
    /// Rewrites a shard's log paths (relative to the shard's folder) to be relative to the folder
    /// the merged report is written to, so its links still reach each shard's console.log.
    public static func rebaseLogs(_ report: RunReport, from shardFolder: URL, to outFolder: URL) -> RunReport {
        let prefix = relativePath(from: outFolder, to: shardFolder)
        guard !prefix.isEmpty else { return report }
        var rebased = report
        func move(_ path: String?) -> String? { path.map { "\(prefix)/\($0)" } }
        for index in rebased.targets.indices {
            var logs = rebased.targets[index].logs
            logs.console = move(logs.console)
            logs.qemu = move(logs.qemu)
            logs.domainXML = move(logs.domainXML)
            logs.moduleBuild = move(logs.moduleBuild)
            rebased.targets[index].logs = logs
        }
        return rebased
    }

    /// `../shard-2` from `/a/merged` to `/a/shard-2`; empty when both are the same folder.
    static func relativePath(from base: URL, to target: URL) -> String {
        let from = base.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let to = target.standardizedFileURL.resolvingSymlinksInPath().pathComponents
        var common = 0
        while common < min(from.count, to.count), from[common] == to[common] { common += 1 }
        let ups = Array(repeating: "..", count: from.count - common)
        return (ups + to[common...]).joined(separator: "/")
    }
}
