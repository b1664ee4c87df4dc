import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// What a libvirt host can run, read from its capabilities XML (`virConnectGetCapabilities`):
/// per guest arch, the emulator, its machines and the domain types (`qemu` is TCG, `kvm` KVM).
public struct HostCapabilities: Sendable, Equatable {
    public struct GuestArch: Sendable, Equatable {
        public var name: String
        public var emulator: String
        public var machines: Set<String>
        public var domainTypes: Set<String>
    }

    /// The host's own CPU arch (`<host><cpu><arch>`).
    public var hostArch: String
    public var guests: [GuestArch]

    public init(xml: String) throws {
        let document: XMLDocument
        do {
            document = try XMLDocument(xmlString: xml, options: [])
        } catch {
            throw HarnessError.infrastructure("libvirt's capabilities XML cannot be read: \(error.localizedDescription)")
        }
        hostArch = (try? document.nodes(forXPath: "/capabilities/host/cpu/arch").first?.stringValue) ?? ""
        var guests: [GuestArch] = []
        for guest in (try? document.nodes(forXPath: "/capabilities/guest")) ?? [] {
            guard let arch = (try? guest.nodes(forXPath: "arch"))?.first as? XMLElement,
                  let name = arch.attribute(forName: "name")?.stringValue,
                  let emulator = (try? arch.nodes(forXPath: "emulator"))?.first?.stringValue
            else { continue }
            // A machine may be listed twice (plain and canonical); both names boot it.
            var machines = Set<String>()
            for machine in (try? arch.nodes(forXPath: "machine")) ?? [] {
                if let value = machine.stringValue { machines.insert(value) }
                if let canonical = (machine as? XMLElement)?.attribute(forName: "canonical")?.stringValue { machines.insert(canonical) }
            }
            let types = ((try? arch.nodes(forXPath: "domain")) ?? [])
                .compactMap { ($0 as? XMLElement)?.attribute(forName: "type")?.stringValue }
            guests.append(GuestArch(name: name, emulator: emulator.trimmingCharacters(in: .whitespacesAndNewlines),
                                    machines: machines, domainTypes: Set(types)))
        }
        self.guests = guests
    }

    /// The emulator that runs `profile`'s guests under TCG on this host, or why there is none.
    public func emulator(for profile: ArchProfile) -> Result<String, Missing> {
        guard let guest = guests.first(where: { $0.name == profile.libvirtArch && $0.domainTypes.contains("qemu") }) else {
            return .failure(Missing(reason: "no emulator for \(profile.libvirtArch) (\(profile.qemuBinary), apt package \(profile.qemuPackage))"))
        }
        guard guest.machines.contains(profile.machine) else {
            return .failure(Missing(reason: "\(guest.emulator) has no machine '\(profile.machine)'"))
        }
        return .success(guest.emulator)
    }

    /// The guest arches the host advertises KVM for (`<domain type='kvm'/>`), which a probe must still confirm.
    public var kvmArches: [String] { guests.filter { $0.domainTypes.contains("kvm") }.map(\.name).sorted() }

    public struct Missing: Error, Sendable, Equatable {
        public var reason: String
    }
}
