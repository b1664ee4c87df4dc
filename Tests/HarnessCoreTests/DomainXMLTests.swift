import Foundation
import Testing
@testable import HarnessCore
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Domain XML")
struct DomainXMLTests {
    let layout = ProjectLayout(root: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent())

    func target(_ arch: String) throws -> Target {
        Target(profile: try ArchCatalog(layout: layout).profile(named: arch), variant: "direct", suite: try SuiteCatalog(layout: layout).defaultSuite, kernel: .debian)
    }

    @Test("every user-supplied value is escaped and the XML stays well formed")
    func escaping() throws {
        let hostile = "/tmp/a'b\"c<d>&e"
        let spec = BootSpec(domainName: "dmah-1-<x>&'", kernelImage: hostile, initramfs: hostile + ".cpio",
                            kernelArguments: ["console=ttyAMA0", "x=</cmdline><evil/>"])
        let xml = DomainXML.make(target: try target("arm"), boot: spec, emulator: "/usr/bin/qemu-system-arm")
        let document = try XMLDocument(xmlString: xml)
        let root = try #require(document.rootElement())
        #expect(try root.nodes(forXPath: "//evil").isEmpty, "no injected element")
        #expect(try root.nodes(forXPath: "os/kernel").first?.stringValue == hostile)
        #expect(try root.nodes(forXPath: "os/cmdline").first?.stringValue == "console=ttyAMA0 x=</cmdline><evil/>")
        #expect(try root.nodes(forXPath: "name").first?.stringValue == "dmah-1-<x>&'")
    }

    @Test("a profile without a CPU model gets no <cpu>; an IOMMU's driver attributes and a variant's features come from the profile")
    func optionalCPUAndIOMMUData() throws {
        let spec = BootSpec(domainName: "d", kernelImage: "/k", initramfs: "/i", kernelArguments: [])
        let riscv = try XMLDocument(xmlString: DomainXML.make(target: try target("riscv64"), boot: spec, emulator: "/q"))
        #expect(try riscv.nodes(forXPath: "//cpu").isEmpty)
        #expect(try riscv.nodes(forXPath: "//os/type/@arch").first?.stringValue == "riscv64")
        var iommu = try target("x86_64")
        iommu.variant = "iommu"
        let x86 = try XMLDocument(xmlString: DomainXML.make(target: iommu, boot: spec, emulator: "/q"))
        #expect(try x86.nodes(forXPath: "//iommu/@model").first?.stringValue == "intel")
        #expect(try x86.nodes(forXPath: "//iommu/driver/@intremap").first?.stringValue == "on")
        #expect(try x86.nodes(forXPath: "//features/ioapic/@driver").first?.stringValue == "qemu")
        #expect(try x86.nodes(forXPath: "//features/acpi").count == 1)
        #expect(DomainXML.featureElement("ioapic driver=qemu") == "<ioapic driver='qemu'/>")
        #expect(!DomainXML.featureElement("x<y a='b'").contains("<y"), "a feature name keeps to XML name characters")
    }

    @Test("arm gets highmem=off and edu through qemu:commandline; x86 gets ACPI")
    func profileData() throws {
        let spec = BootSpec(domainName: "d", kernelImage: "/k", initramfs: "/i", kernelArguments: [])
        let arm = try XMLDocument(xmlString: DomainXML.make(target: try target("arm"), boot: spec, emulator: "/q"))
        let args = try arm.nodes(forXPath: "//*[local-name()='arg']/@value").compactMap(\.stringValue)
        #expect(args.contains("highmem=off"))
        let edu = try #require(args.first { $0.hasPrefix("edu,") })
        #expect(edu.contains("dma_mask=0xffffffff"))
        #expect(try arm.nodes(forXPath: "//os/type/@arch").first?.stringValue == "armv7l")
        #expect(try arm.nodes(forXPath: "//features").isEmpty)

        let x86 = try XMLDocument(xmlString: DomainXML.make(target: try target("x86_64"), boot: spec, emulator: "/q"))
        #expect(try x86.nodes(forXPath: "//features/acpi").count == 1)
        #expect(try x86.nodes(forXPath: "//os/type/@machine").first?.stringValue == "q35")
    }
}
