import Foundation

/// The nightly CI matrix, from the profiles: every arch x variant the planner knows, as a GitHub
/// Actions `strategy.matrix` (`{"include": [...]}`) or plain lines. Unsupported pairs are listed
/// too: running one costs nothing (it is not booted) and keeps the merged report complete.
public enum CIMatrix {
    /// One matrix entry.
    public struct Entry: Codable, Sendable, Equatable {
        public var arch: String
        public var variant: String
        /// The Debian kernel line (`--debian`).
        public var debian: String = ""
        public var target: String
        /// Set when the matrix is grouped into shards: `i/n` and the ids it runs, space-separated.
        public var shard: String?
        public var targets: String?
        /// Why the target will be reported, not booted.
        public var unsupported: String?
    }

    /// One entry per target, in the planner's order.
    public static func entries(catalog: ArchCatalog, arches: [String] = ["all"], variants: [String] = ["all"],
                               suites: [String] = []) throws -> [Entry] {
        try TargetPlanner.plan(arches: arches, variants: variants, suites: suites, kernel: .debian, catalog: catalog).map {
            Entry(arch: $0.profile.name, variant: $0.variant, debian: $0.suite.name, target: $0.id,
                  unsupported: $0.unsupportedReason)
        }
    }

    /// `count` shard entries, each naming the targets `--shard i/count` will run.
    public static func shards(_ entries: [Entry], count: Int) throws -> [Entry] {
        try (1...max(1, count)).map { index in
            let ids = try TargetSelection(shard: (index, count)).select(from: entries.map(\.target))
            return Entry(arch: "", variant: "", target: "", shard: "\(index)/\(count)", targets: ids.joined(separator: " "))
        }.filter { !($0.targets ?? "").isEmpty }
    }

    /// `{"include":[...]}` on one line, as `echo "matrix=$(harness matrix)" >> $GITHUB_OUTPUT` needs.
    public static func github(_ entries: [Entry]) throws -> String {
        struct Matrix: Encodable { var include: [[String: String]] }
        let include = entries.map { entry -> [String: String] in
            if let shard = entry.shard { return ["shard": shard, "targets": entry.targets ?? ""] }
            var fields = ["arch": entry.arch, "variant": entry.variant, "debian": entry.debian, "target": entry.target]
            if let unsupported = entry.unsupported { fields["unsupported"] = unsupported }
            return fields
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Matrix(include: include)), as: UTF8.self)
    }

    /// One line per entry: `<target> <arch> <variant> <suite>`, or `1/3 <target> <target> ...`.
    public static func plain(_ entries: [Entry]) -> String {
        entries.map { entry in
            if let shard = entry.shard { return "\(shard) \(entry.targets ?? "")" }
            return "\(entry.target) \(entry.arch) \(entry.variant) \(entry.debian)" + (entry.unsupported == nil ? "" : " unsupported")
        }.joined(separator: "\n") + "\n"
    }
}
