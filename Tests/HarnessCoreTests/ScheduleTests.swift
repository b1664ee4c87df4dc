import Foundation
import Testing
@testable import HarnessCore

@Suite("longest-first schedule")
struct ScheduleTests {
    let targets: [Target]

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalog = try ArchCatalog(layout: ProjectLayout(root: root))
        targets = try TargetPlanner.plan(arches: ["all"], variants: ["all"], kernel: .debian, catalog: catalog)
    }

    @Test("recorded durations order the booted targets longest first; unknown ones as the longest; unsupported last")
    func order() throws {
        let booted = targets.filter { $0.unsupportedReason == nil }
        let unsupported = targets.filter { $0.unsupportedReason != nil }
        #expect(booted.count >= 3 && !unsupported.isEmpty)
        let durations = Dictionary(uniqueKeysWithValues: booted.dropFirst().enumerated().map { ($1.id, Double($0 + 1)) })
        let ordered = TargetSchedule(recorded: durations).ordered(targets)
        #expect(ordered.count == targets.count && Set(ordered.map(\.id)) == Set(targets.map(\.id)))
        // The target never seen ranks with the longest recorded one and, earlier in the plan, goes first.
        #expect(ordered.prefix(2).map(\.id) == [booted.first!.id, booted.last!.id])
        let seconds = ordered.prefix(booted.count).map { durations[$0.id] ?? durations.values.max()! }
        #expect(zip(seconds, seconds.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(Array(ordered.suffix(unsupported.count).map(\.id)) == unsupported.map(\.id))
        // Nothing recorded: the planner's order, unsupported last.
        #expect(TargetSchedule().ordered(targets).map(\.id) == booted.map(\.id) + unsupported.map(\.id))
    }
}
