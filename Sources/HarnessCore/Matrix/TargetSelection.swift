import Foundation

/// Which of the planned targets one `harness run` boots: `--target` globs (`*-iommu`,
/// `*-direct-sid`) and `--shard i/n`. A pure function of the plan, so the nightly matrix, a shard
/// runner and a developer re-running one cell all pick the same targets from the same profiles.
public struct TargetSelection: Sendable, Equatable {
    /// Globs on target ids; empty selects every target.
    public var patterns: [String]
    /// `(index, count)`, 1-based: the index-th of count round-robin shards of the sorted targets.
    public var shard: (index: Int, count: Int)?

    public init(patterns: [String] = [], shard: (index: Int, count: Int)? = nil) {
        self.patterns = patterns
        self.shard = shard
    }

    public static func == (lhs: TargetSelection, rhs: TargetSelection) -> Bool {
        lhs.patterns == rhs.patterns && lhs.shard?.index == rhs.shard?.index && lhs.shard?.count == rhs.shard?.count
    }

    /// Parses `i/n` (1 <= i <= n).
    public static func parseShard(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else {
            throw HarnessError.usage("--shard '\(text)' must be i/n with 1 <= i <= n, e.g. 2/3")
        }
        return (index, count)
    }

    /// Whether anything narrows the plan.
    public var isEverything: Bool { patterns.isEmpty && shard == nil }

    /// The selected ids, in sorted order. A pattern that matches no planned target is a usage error
    /// naming the valid ids (a typo must not turn into an empty, green run). Sharding is round-robin
    /// over the sorted ids, so shards differ in size by at most one target and each target lands in
    /// exactly one shard whatever n is.
    public func select(from ids: [String]) throws -> [String] {
        let sorted = Array(Set(ids)).sorted()
        var chosen = sorted
        if !patterns.isEmpty {
            for pattern in patterns where !sorted.contains(where: { Glob.matches(pattern, $0) }) {
                throw HarnessError.usage("--target '\(pattern)' matches no target; valid: \(sorted.joined(separator: ", "))")
            }
            chosen = sorted.filter { id in patterns.contains { Glob.matches($0, id) } }
        }
        if let shard {
            chosen = chosen.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
        }
        return chosen
    }

    /// The targets of `plan` that are selected, in the plan's order.
    public func apply(to plan: [Target]) throws -> [Target] {
        guard !isEverything else { return plan }
        let chosen = Set(try select(from: plan.map(\.id)))
        return plan.filter { chosen.contains($0.id) }
    }
}
