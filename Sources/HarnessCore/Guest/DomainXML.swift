import Foundation

/// What a boot needs that is not in the profile: files and words decided per run.
public struct BootSpec: Sendable {
    public var domainName: String
    public var kernelImage: String
    public var initramfs: String
    public var kernelArguments: [String]
    /// When set, QEMU itself logs the serial console to this file (a local driver only): a complete
    /// record even of bytes a pty would drop when QEMU exits.
    public var consoleLogFile: String? = nil
}

/// Generates the libvirt domain XML for a target. Every value that came from a user, a profile or
/// a path is escaped; libvirt 9.0 has no element for `edu`, so it goes through `<qemu:commandline>`.
public enum DomainXML {
    public static let qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

    public static func make(target: Target, boot: BootSpec, emulator: String) -> String {
        let profile = target.profile
        let variant = profile.variants[target.variant]
        let machineOptions = profile.machineOptions + (variant?.machineOptions ?? [])
        let edu = "edu,bus=\(profile.pciRootBus),addr=\(String(format: "0x%x", profile.eduPCISlot)),"
            + "dma_mask=\(String(format: "0x%llx", (UInt64(1) << UInt64(target.eduDMABits)) &- 1))"
        var qemuArguments = ["-device", edu]
        if !machineOptions.isEmpty { qemuArguments += ["-machine", machineOptions.joined(separator: ",")] }
        if let icount = target.clock.icountOption { qemuArguments += ["-icount", icount] }

        var xml = """
        <domain type='qemu' xmlns:qemu='\(qemuNamespace)'>
          <name>\(escape(boot.domainName))</name>
          <memory unit='MiB'>\(profile.memoryMiB)</memory>
          <vcpu>\(profile.vcpus)</vcpu>
          <os>
            <type arch='\(escape(profile.libvirtArch))' machine='\(escape(profile.machine))'>hvm</type>
        \(profile.firmware.map { "    <loader readonly='yes' type='rom'>\(escape($0))</loader>\n" } ?? "")\
            <kernel>\(escape(boot.kernelImage))</kernel>
            <initrd>\(escape(boot.initramfs))</initrd>
            <cmdline>\(escape(boot.kernelArguments.joined(separator: " ")))</cmdline>
          </os>

        """
        let features = (profile.features + (variant?.features ?? [])).map(featureElement)
        if !features.isEmpty { xml += "  <features>" + features.joined() + "</features>\n" }
        if let cpu = profile.cpu {
            xml += "  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>\(escape(cpu))</model></cpu>\n"
        }
        xml += """
          <clock offset='utc'/>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>destroy</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <emulator>\(escape(emulator))</emulator>
            <controller type='usb' model='none'/>
            <serial type='pty'>\(boot.consoleLogFile.map { "<log file='\(escape($0))' append='off'/>" } ?? "")<target port='0'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <memballoon model='none'/>
        \(iommuElement(variant?.iommu, driver: variant?.iommuDriver))
          </devices>
          <qemu:commandline>

        """
        for argument in qemuArguments { xml += "    <qemu:arg value='\(escape(argument))'/>\n" }
        xml += "  </qemu:commandline>\n</domain>\n"
        return xml
    }

    /// libvirt's element for the variant's IOMMU (placed before `edu`, which QEMU then puts behind it).
    static func iommuElement(_ model: String?, driver: [String: String]?) -> String {
        guard let model else { return "" }
        guard let driver, !driver.isEmpty else { return "<iommu model='\(escape(model))'/>" }
        return "<iommu model='\(escape(model))'><driver\(attributes(driver))/></iommu>"
    }

    /// `acpi` -> `<acpi/>`, `ioapic driver=qemu` -> `<ioapic driver='qemu'/>`.
    static func featureElement(_ feature: String) -> String {
        let words = feature.split(separator: " ").map(String.init)
        var pairs: [String: String] = [:]
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            pairs[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        return "<\(escapeName(words.first ?? ""))\(attributes(pairs))/>"
    }

    private static func attributes(_ pairs: [String: String]) -> String {
        pairs.sorted { $0.key < $1.key }.map { " \(escapeName($0.key))='\(escape($0.value))'" }.joined()
    }

    /// Escapes text for an XML attribute or element body (shared with the report renderers): as an
    /// attribute value, so a path's newline or tab survives in either place.
    public static func escape(_ text: String) -> String { Markup.escapeAttribute(text) }

    /// Feature names come from profiles; keep them to XML name characters.
    static func escapeName(_ name: String) -> String {
        String(name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }
}
