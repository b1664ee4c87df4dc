import Foundation
import Testing
@testable import HarnessCore

@Suite("hosts: the hosts file, credentials, capabilities and the pool's choices")
struct HostTests {
    static let fixtures = Fixture.folder.appendingPathComponent("hosts")
    let catalog: ArchCatalog
    let targets: [Target]

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        catalog = try ArchCatalog(layout: ProjectLayout(root: root))
        targets = try TargetPlanner.plan(arches: ["all"], variants: ["direct"], kernel: .debian, catalog: catalog)
    }

    static func capabilities(_ name: String) throws -> HostCapabilities {
        try HostCapabilities(xml: String(decoding: try Data(contentsOf: fixtures.appendingPathComponent("capabilities-\(name).xml")), as: UTF8.self))
    }

    func target(_ arch: String) -> Target { targets.first { $0.profile.name == arch }! }

    @Test("a hosts file: URIs, capacity and pool, comments and blank lines; every mistake named with its line")
    func hostsFile() throws {
        let entries = try HostList.parse(hostsFile: """
            # the lab
            qemu+ssh://root@lab1.example.org/system   capacity=8

            qemu+tls://lab2.example.org/system capacity=2 pool=fast   # NVMe
            """, named: "hosts")
        #expect(entries == [HostEntry(uri: "qemu+ssh://root@lab1.example.org/system", capacity: 8),
                            HostEntry(uri: "qemu+tls://lab2.example.org/system", capacity: 2, pool: "fast")])
        let mistakes: [(String, String)] = [
            ("qemu:///system capacity=0", "hosts:1: capacity must be a whole number"),
            ("qemu:///system\nqemu:///system speed=3", "hosts:2: unknown key 'speed'"),
            ("qemu:///system capacity", "hosts:1: 'capacity' is not key=value"),
            ("lab1.example.org", "hosts:1: 'lab1.example.org' is not a libvirt URI"),
            ("# nothing\n\n", "hosts lists no host"),
        ]
        for (text, message) in mistakes {
            #expect { try HostList.parse(hostsFile: text, named: "hosts") } throws: { error in
                (error as? HarnessError)?.status == .usage && ((error as? HarnessError)?.message ?? "").hasPrefix(message)
            }
        }
        // --connect first, then the file; a URI named twice is one host.
        let combined = try HostList.combine(connectURIs: ["qemu+tls://lab2.example.org/system"], hostsFile: entries)
        #expect(combined.map(\.uri) == ["qemu+tls://lab2.example.org/system", "qemu+ssh://root@lab1.example.org/system"])
    }

    @Test("credentials in a URI never reach a report: passwords and secret parameters are replaced, wherever the URI stands")
    func redaction() {
        #expect(Redaction.uri("qemu+tcp://ops:hunter2@lab1/system") == "qemu+tcp://ops:REDACTED@lab1/system")
        #expect(Redaction.uri("qemu+libssh2://lab1/system?known_hosts=/k&password=hunter2")
            == "qemu+libssh2://lab1/system?known_hosts=/k&password=REDACTED")
        #expect(Redaction.uri("qemu+ssh://root@lab1/system") == "qemu+ssh://root@lab1/system")
        let line = Redaction.commandLine(["harness", "run", "--connect", "qemu+tcp://a:b@h/system", "--connect=qemu+tcp://c:d@h/system"])
        #expect(!line.joined(separator: " ").contains("b@") && !line.joined(separator: " ").contains(":d@"))
        #expect(line[3] == "qemu+tcp://a:REDACTED@h/system" && line[4] == "--connect=qemu+tcp://c:REDACTED@h/system")
    }

    @Test("capabilities recorded from real libvirtd hosts: every profile's arch and machine found, a hidden emulator missed")
    func capabilities() throws {
        let all = try Self.capabilities("all"), lacking = try Self.capabilities("no-x86_64")
        #expect(all.hostArch == "x86_64")
        for arch in ["arm", "arm64", "x86_64", "riscv64"] {
            let profile = target(arch).profile
            guard case .success(let emulator) = all.emulator(for: profile) else {
                Issue.record("\(arch): no emulator in the full host's capabilities")
                continue
            }
            #expect(emulator.hasSuffix("/\(profile.qemuBinary)"))
        }
        guard case .failure(let missing) = lacking.emulator(for: target("x86_64").profile) else {
            Issue.record("the host without qemu-system-x86_64 claims to run x86_64")
            return
        }
        #expect(missing.reason.contains("x86_64") && missing.reason.contains("qemu-system-x86"))
        if case .failure = lacking.emulator(for: target("arm64").profile) { Issue.record("the second host lost arm64 too") }
        #expect(all.kvmArches.contains("x86_64") && !lacking.kvmArches.contains("x86_64"))
    }

    @Test("the pool leases by capability and free share, holds a lost host out, and says why nothing can run a target")
    func pool() throws {
        let full = LibvirtHost(index: 0, entry: HostEntry(uri: "qemu+tcp://10.251.1.2/system"), capabilities: try Self.capabilities("all"), capacity: 2)
        let partial = LibvirtHost(index: 1, entry: HostEntry(uri: "qemu+tcp://10.251.2.2/system"), capabilities: try Self.capabilities("no-x86_64"), capacity: 1)
        let pool = HostPool(hosts: [full, partial])
        #expect(pool.totalCapacity == 3)
        // x86_64 runs only on the full host: two slots, then none free (but one will be).
        let x86 = target("x86_64"), arm64 = target("arm64")
        let first = try #require(pool.tryLease(for: x86))
        #expect(first.host === full && first.emulator?.hasSuffix("qemu-system-x86_64") == true)
        // arm64 goes where the larger share is free: the idle partial host (1/1) over the full one (1/2).
        let second = try #require(pool.tryLease(for: arm64))
        #expect(second.host === partial)
        let third = try #require(pool.tryLease(for: x86))
        #expect(third.host === full)
        #expect(pool.tryLease(for: x86) == nil && pool.tryLease(for: arm64) == nil)
        #expect(pool.whyNoHost(for: x86) == nil)
        pool.release(second)
        // The partial host lost: x86_64 and arm64 alike wait for the full one, and without it nothing runs.
        pool.markLost(partial, reason: "the daemon closed the connection")
        #expect(pool.tryLease(for: arm64) == nil)
        pool.release(first)
        #expect(pool.tryLease(for: arm64)?.host === full)
        let why = try #require(pool.whyNoHost(for: x86, excluding: [0]))
        #expect(why.contains("already tried") && why.contains("lost (the daemon closed the connection)"))
        let onlyPartial = HostPool(hosts: [LibvirtHost(index: 0, entry: HostEntry(uri: "qemu+tcp://10.251.2.2/system"),
                                                       capabilities: try Self.capabilities("no-x86_64"), capacity: 1)])
        #expect(onlyPartial.lease(for: x86) == nil)
        #expect(onlyPartial.whyNoHost(for: x86)?.contains("no emulator for x86_64") == true)
    }
}
