import Foundation

/// What changed between kernel lines: for every arch and variant that ran on more than one Debian
/// line in a report, each attribute's cell and each finding's tier, line by line, oldest first.
/// The renderings show it as "what changed between 6.1, 6.12 and 7.2".
public struct KernelLineChanges: Sendable, Equatable {
    /// One kernel line of a group: its suite and the kernel's upstream version.
    public struct Line: Sendable, Equatable {
        public var suite: String
        public var version: String
        public var status: TargetStatus
        public var targetID: String
    }

    /// One row: an attribute's cell or a finding's tier on each line (nil: the finding is absent,
    /// or the target has no verdict).
    public struct Row: Sendable, Equatable {
        public var subject: String
        public var values: [String?]
        /// Whether the lines disagree.
        public var changed: Bool { Set(values.map { $0 ?? "" }).count > 1 }
    }

    public struct Group: Sendable, Equatable {
        public var arch: String
        public var variant: String
        public var lines: [Line]
        public var attributes: [Row]
        public var findings: [Row]
    }

    public var groups: [Group]

    /// The line a target ran on: its suite, or bookworm for a Debian kernel in a report older than
    /// 2.1 (the only line then); a user's kernel belongs to no line.
    static func suite(of target: TargetReport) -> String? {
        if let suite = target.suite { return suite }
        if case .debian(_, let suite)? = target.kernel?.provenance { return suite ?? "bookworm" }
        return nil
    }

    public init(report: RunReport) {
        var byPair: [String: [TargetReport]] = [:]
        var order: [String] = []
        for target in report.targets where Self.suite(of: target) != nil && target.status != .unsupported {
            let key = "\(target.arch)-\(target.variant)"
            if byPair[key] == nil { order.append(key) }
            byPair[key, default: []].append(target)
        }
        // Oldest kernel first: by the numbers of the upstream version (6.12 after 6.1 and 6.9).
        func rank(_ target: TargetReport) -> [Int] {
            (target.kernel?.version ?? "").split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        }
        groups = order.compactMap { key in
            let targets = byPair[key]!.sorted { rank($0).lexicographicallyPrecedes(rank($1)) }
            guard targets.count > 1, let first = targets.first else { return nil }
            let lines = targets.map {
                Line(suite: Self.suite(of: $0) ?? "", version: $0.kernel?.version ?? $0.kernel?.release ?? "?",
                     status: $0.status, targetID: $0.id)
            }
            let attributes = ConformanceAttributes.columns.map { column in
                Row(subject: column, values: targets.map { target in
                    target.attributes.first { $0.attribute == column }?.cell
                })
            }
            var findingIDs: [String] = []
            for target in targets {
                for finding in target.contractFindings ?? [] where !findingIDs.contains(finding.id) {
                    findingIDs.append(finding.id)
                }
            }
            let findings = findingIDs.map { id in
                Row(subject: id, values: targets.map { target in
                    target.contractFindings?.first { $0.id == id }.map(\.tier.rawValue)
                })
            }
            return Group(arch: first.arch, variant: first.variant, lines: lines, attributes: attributes, findings: findings)
        }
    }

    /// `6.1.192, 6.12.117 and 7.2.13`.
    public static func versions(of group: Group) -> String {
        let names = group.lines.map(\.version)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
