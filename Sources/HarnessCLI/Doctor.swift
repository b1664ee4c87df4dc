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
                let provisioner = ImageProvisioner(cacheRoot: cache.cacheRoot, layout: layout, logger: cache.makeLogger())
                let native = catalog.names.compactMap { name -> (ArchProfile, String)? in
                    guard catalog.recipes[name]?.debianArch == HostPlatform.debianArch, let profile = catalog.profiles[name],
                          let image = provisioner.cachedImage(arch: name, suite: catalog.suites.defaultSuite) else { return nil }
                    return (profile, image.kernelImage)
                }.first
                let checks = HarnessCore.Doctor.checks(catalog: catalog, nativeKernel: native)
                for check in checks {
                    let mark = check.ok ? "ok  " : (check.required ? "FAIL" : "warn")
                    print("\(mark) \(check.name): \(check.detail)")
                }
                return checks.contains { $0.required && !$0.ok } ? .infrastructure : .passed
            }
        }
    }
}
