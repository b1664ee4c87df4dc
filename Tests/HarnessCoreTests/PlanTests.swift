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

    @Test("kernel lines: the default keeps plain ids, other lines name theirs, an arch without a kernel on the line says why")
    func kernelLines() throws {
        let targets = try TargetPlanner.plan(arches: ["all"], variants: ["direct"], suites: ["all"], kernel: .debian, catalog: catalog)
        #expect(targets.count == catalog.names.count * catalog.suites.names.count)
        for target in targets {
            let suffix = target.suite.name == catalog.suites.default ? "" : "-\(target.suite.name)"
            #expect(target.id == "\(target.profile.name)-direct\(suffix)")
            let missing = catalog.unavailability(arch: target.profile.name, suite: target.suite.name)
            if let missing { #expect(target.unsupportedReason == missing) }
        }
        // An arch named alone on lines that have no kernel for it: one usage line that names a line that has.
        for arch in catalog.names {
            let without = catalog.suites.names.filter { catalog.unavailability(arch: arch, suite: $0) != nil }
            let with = catalog.suites.names.filter { catalog.unavailability(arch: arch, suite: $0) == nil }
            guard !without.isEmpty else { continue }
            do {
                _ = try TargetPlanner.plan(arches: [arch], variants: ["direct"], suites: without, kernel: .debian, catalog: catalog)
                Issue.record("\(arch) on \(without) was planned")
            } catch let error as HarnessError {
                #expect(error.status == .usage && !error.message.contains("\n"))
                #expect(with.allSatisfy { error.message.contains($0) }, "\(error.message)")
            }
        }
        #expect(throws: HarnessError.self) {
            try TargetPlanner.plan(arches: ["arm"], variants: ["direct"], suites: ["buster"], kernel: .debian, catalog: catalog)
        }
    }

    @Test("the compiler generation comes from the kernel's CONFIG_CC_VERSION_TEXT")
    func compilerGeneration() {
        #expect(Toolchain.gccMajor("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0") == "12")
        #expect(Toolchain.gccMajor("riscv64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0") == "14")
        #expect(Toolchain.gccMajor("gcc (GCC) 12.2.0") == nil)
        #expect(Toolchain.gccMajor("x86_64-linux-gnu-gcc-16 (Debian 16.2.0-4) 16.2.0") == "16")
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
