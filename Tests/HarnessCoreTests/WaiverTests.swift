import Foundation
import Testing
@testable import HarnessCore

@Suite("waivers")
struct WaiverTests {
    let today = Waiver.day("2026-11-26")!

    @Test("an attribute waiver makes that attribute and its failing evidence expected, on matching targets only")
    func attributeWaiver() throws {
        let report = try ReportFixture.load(ReportFixture.all)
        let waived = Waivers.apply([Waiver(target: "arm64-d*", attribute: "DMA_ATTR_WRITE_COMBINE", reason: "known")],
                                   file: "w.json", to: report, today: today)
        let arm64 = try #require(waived.targets.first { $0.id == "arm64-direct" })
        let attribute = try #require(arm64.attributes.first { $0.attribute == "WRITE_COMBINE" })
        #expect(waived.waiver(target: "arm64-direct", attribute: "WRITE_COMBINE")?.reason == "known")
        for id in attribute.failingEvidence where arm64.failingTests.contains(where: { $0.id == id }) {
            #expect(waived.waiver(target: "arm64-direct", test: id) != nil, "\(id)")
        }
        #expect(waived.waiver(target: "arm-direct", attribute: "WRITE_COMBINE") == nil)
        // Other attributes still fail the target.
        #expect(waived.effectiveStatus(of: arm64) == .failed)
        #expect(waived.waivers?.stale.isEmpty == true)
    }

    @Test("waiving every failing test of a target makes it pass (XFAIL); crashes are never waived")
    func wholeTarget() throws {
        let report = try ReportFixture.load(ReportFixture.initOnAlloc)
        let waived = Waivers.apply([Waiver(target: "arm64-*", test: "*", reason: "CMA alignment, bug 1")],
                                   file: "w.json", to: report, today: today)
        let target = try #require(waived.targets.first)
        #expect(target.status == .failed)
        #expect(waived.effectiveStatus(of: target) == .passed)
        #expect(waived.isWaived(target))
        // Every violated attribute rests only on waived tests, so each is expected too.
        for attribute in target.attributes where attribute.verdict == .violated {
            #expect(waived.waiver(target: target.id, attribute: attribute.attribute) != nil, "\(attribute.attribute)")
        }
        var crashed = report
        crashed.targets[0].status = .crashed
        #expect(Waivers.apply([Waiver(target: "*", test: "*", reason: "x")], file: "w", to: crashed, today: today)
            .effectiveStatus(of: crashed.targets[0]) == .crashed)
    }

    @Test("a waiver whose finding is gone is stale; an expired one waives nothing")
    func staleAndExpired() throws {
        let report = try ReportFixture.load(ReportFixture.cma0)
        let stale = Waiver(target: "arm64-direct", test: "dma_alloc.none_2097152", reason: "was misaligned")
        let otherTarget = Waiver(target: "x86_64-*", attribute: "none", reason: "not in this report")
        let waived = Waivers.apply([stale, otherTarget], file: "w", to: report, today: today)
        #expect(waived.waivers?.stale == [stale], "a waiver for a target that did not run is not stale")

        let failing = try ReportFixture.load(ReportFixture.initOnAlloc)
        let expired = Waiver(target: "*", test: "*", reason: "old", expires: "2026-11-25")
        let lastDay = Waiver(target: "*", test: "*", reason: "today", expires: "2026-11-26")
        let outcome = Waivers.apply([expired], file: "w", to: failing, today: today).waivers
        #expect(outcome?.expired == [expired] && outcome?.applied.isEmpty == true)
        #expect(Waivers.apply([lastDay], file: "w", to: failing, today: today).waivers?.applied.isEmpty == false)
    }

    @Test("a waiver holds through its whole expiry day in UTC, and not a second longer", arguments: [
        ("2026-11-26T00:00:00Z", false), ("2026-11-26T23:59:59Z", false),
        ("2026-11-27T00:00:00Z", true), ("2026-11-25T12:00:00Z", false), ("2027-01-01T00:00:00Z", true),
    ])
    func expiryDay(_ now: String, expired: Bool) throws {
        let day = try #require(ISO8601DateFormatter().date(from: now))
        #expect(Waiver(target: "*", test: "*", reason: "r", expires: "2026-11-26").isExpired(on: day) == expired)
        #expect(Waiver(target: "*", test: "*", reason: "r").isExpired(on: day) == false, "no expiry never expires")
    }

    @Test("a malformed waiver file is refused with one line naming the entry")
    func badFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("waivers-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        for (text, words) in [("{\"waivers\":[{\"target\":\"a\",\"reason\":\"r\"}]}", "exactly one of"),
                              ("{\"waivers\":[{\"target\":\"a\",\"test\":\"t\",\"reason\":\"r\",\"expires\":\"soon\"}]}", "YYYY-MM-DD"),
                              ("[1]", "is not a waiver file")] {
            try Data(text.utf8).write(to: file)
            #expect(throws: HarnessError.self) { try Waivers.load(from: file) }
            do { _ = try Waivers.load(from: file) } catch let error as HarnessError {
                #expect(error.status == .usage && error.message.contains(words), "\(error.message)")
            }
        }
    }
}
