import Foundation

/// The order targets boot in: longest first, from how long each one's guest held a core the last
/// time it ran on this machine, so the last target to finish is a short one and no core idles at
/// the end of a run. Durations are the wall seconds of the boot and collect stages, kept in the
/// cache (`durations.json`); a target never seen before is placed as if it took the longest
/// recorded time, so a new arch starts early rather than last.
public struct TargetSchedule: Codable, Sendable, Equatable {
    /// Target id -> wall seconds its guest held a core, the last time it booted.
    public var recorded: [String: Double]

    public init(recorded: [String: Double] = [:]) { self.recorded = recorded }

    static func file(in cacheRoot: URL) -> URL { cacheRoot.appendingPathComponent("durations.json") }

    /// The durations recorded under `cacheRoot`, none when the file is missing or unreadable.
    public static func load(cacheRoot: URL) -> TargetSchedule {
        guard let data = FileManager.default.contents(atPath: file(in: cacheRoot).path),
              let schedule = try? JSONDecoder().decode(TargetSchedule.self, from: data) else { return TargetSchedule() }
        return schedule
    }

    /// `targets`, longest recorded first; targets that will not boot (unsupported) last; ties
    /// keep the planner's order.
    public func ordered(_ targets: [Target]) -> [Target] {
        let longest = recorded.values.max() ?? 0
        func cost(_ target: Target) -> Double {
            target.unsupportedReason != nil ? -1 : recorded[target.id] ?? longest
        }
        return targets.enumerated().sorted { a, b in
            let (first, second) = (cost(a.element), cost(b.element))
            return first != second ? first > second : a.offset < b.offset
        }.map(\.element)
    }

    /// This schedule with the targets of `reports` that booted: their boot and collect seconds.
    public func recording(_ reports: [TargetReport]) -> TargetSchedule {
        var updated = self
        for report in reports where report.boot != nil {
            updated.recorded[report.id] = report.stages.filter { [.boot, .collect].contains($0.stage) }
                .reduce(0) { $0 + $1.seconds }
        }
        return updated
    }

    /// Writes the durations atomically; a cache that cannot take them only loses the ordering.
    public func save(cacheRoot: URL) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? encoder.encode(self).write(to: Self.file(in: cacheRoot), options: .atomic)
    }
}
