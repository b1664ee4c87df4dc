import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the host: tools, packages, libvirt's QEMU driver, and whether KVM really works.")

        func run() throws {
            try Harness.guarded {
                let catalog = try ArchCatalog(layout: try ProjectLayout.locate())
                let checks = HarnessCore.Doctor.checks(catalog: catalog)
                for check in checks {
                    let mark = check.ok ? "ok  " : (check.required ? "FAIL" : "warn")
                    print("\(mark) \(check.name): \(check.detail)")
                }
                return checks.contains { $0.required && !$0.ok } ? .infrastructure : .passed
            }
        }
    }
}
