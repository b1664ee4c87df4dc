import Foundation
import Testing
@testable import HarnessCore

@Suite("Planning targets from profiles")
struct PlanTests {
    let catalog: ArchCatalog

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        catalog = try ArchCatalog(layout: ProjectLayout(root: root))
    }

    @Test("an unknown arch names every valid one")
    func unknownArch() {
        do {
            _ = try TargetPlanner.plan(arches: ["sparc"], variants: ["direct"], kernel: .debian, catalog: catalog)
            Issue.record("sparc was accepted")
        } catch let error as HarnessError {
            #expect(error.status == .usage)
            for name in catalog.names { #expect(error.message.contains(name)) }
            #expect(!error.message.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("all expands to every profile, once each")
    func all() throws {
        let targets = try TargetPlanner.plan(arches: ["all", "arm"], variants: ["direct"], kernel: .debian, catalog: catalog)
        #expect(targets.map(\.profile.name).sorted() == catalog.names)
        #expect(targets.map(\.id).contains("arm-direct"))
    }

    @Test("a user kernel boots exactly one arch")
    func userKernelOneArch() {
        #expect(throws: HarnessError.self) {
            try TargetPlanner.plan(arches: ["all"], variants: ["direct"],
                                   kernel: .user(kernelFile: "/k", kbuildDirectory: "/b"), catalog: catalog)
        }
    }

    @Test("an unknown variant is refused")
    func unknownVariant() {
        #expect(throws: HarnessError.self) {
            try TargetPlanner.plan(arches: ["arm"], variants: ["bogus"], kernel: .debian, catalog: catalog)
        }
    }

    @Test("kernel image magic tells the arches apart")
    func kernelMagic() throws {
        let arm = try catalog.profile(named: "arm").kernelMagic
        var zImage = [UInt8](repeating: 0, count: 64)
        zImage[36...39] = [0x18, 0x28, 0x6f, 0x01]
        #expect(KernelImageInspector.matches(arm, bytes: zImage))
        #expect(!KernelImageInspector.matches(try catalog.profile(named: "x86_64").kernelMagic, bytes: zImage))
        #expect(!KernelImageInspector.matches(arm, bytes: Array(zImage.prefix(20))))
    }
}
