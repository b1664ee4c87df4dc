import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the host: tools, packages, libvirt's QEMU driver, and whether KVM really works.")

        @OptionGroup var cache: CacheOptions

        func run() throws {
            try Harness.guarded {
                let layout = try ProjectLayout.locate()
                let catalog = try ArchCatalog(layout: layout)
                let x86 = ImageProvisioner(cacheRoot: cache.cacheRoot, layout: layout, logger: cache.makeLogger())
                    .cachedImage(arch: "x86_64")
                let checks = HarnessCore.Doctor.checks(catalog: catalog, cachedKernel: x86?.kernelImage)
                for check in checks {
                    let mark = check.ok ? "ok  " : (check.required ? "FAIL" : "warn")
                    print("\(mark) \(check.name): \(check.detail)")
                }
                return checks.contains { $0.required && !$0.ok } ? .infrastructure : .passed
            }
        }
    }
}
