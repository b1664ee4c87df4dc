import Foundation
import Libvirt
import Testing

/// One real boot through the embedded QEMU driver (`qemu:///embed?root=DIR`, no daemon):
/// a diskless x86_64 TCG guest whose SeaBIOS prints to the serial console.
///
/// libvirt 9.0 binds a process's embedded QEMU driver to the first root it opens, for the rest
/// of the process's life (another root fails: "Cannot open embedded driver at path ..., already
/// open with path ..."). This suite's private root therefore cannot share a test process with
/// other suites that open their own embedded root: run those in a separate `swift test`.
@Suite("Embedded QEMU driver", .serialized)
struct EmbeddedQemuTests {
    static let emulator = executableOnPath("qemu-system-x86_64")

    /// A private driver root holding the `qemu.conf` the embedded driver needs as root:
    /// no privilege drop, and QEMU's stdio straight to a file instead of through virtlogd.
    static func makeDriverRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("dmah-test-embed-\(UUID().uuidString.prefix(8).lowercased())")
        let etc = root.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        let conf = """
            user = "root"
            group = "root"
            stdio_handler = "file"

            """
        try conf.write(to: etc.appendingPathComponent("qemu.conf"), atomically: true, encoding: .utf8)
        return root
    }

    /// `<bios useserial='yes'/>` makes libvirt add `-machine graphics=off`, which turns on
    /// SeaBIOS's serial console; without it a display-less guest prints nothing at all.
    static func domainXML(name: String, emulator: String) -> String {
        """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='pc'>hvm</type>
            <bios useserial='yes'/>
          </os>
          <features><acpi/></features>
          <on_poweroff>destroy</on_poweroff>
          <devices>
            <emulator>\(emulator)</emulator>
            <serial type='pty'><target port='0'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <memballoon model='none'/>
          </devices>
        </domain>
        """
    }

    @Test(
        "boot paused, open the console, resume, read SeaBIOS, destroy, see it stop",
        .enabled(if: emulator != nil, "qemu-system-x86_64 is not installed"),
        .timeLimit(.minutes(2))
    )
    func bootSeaBIOS() throws {
        let emulator = try #require(Self.emulator)
        let root = try Self.makeDriverRoot()
        defer { try? FileManager.default.removeItem(at: root) }

        var clock = Date()
        func lap() -> String {
            let now = Date()
            defer { clock = now }
            return String(format: "%.2fs", now.timeIntervalSince(clock))
        }

        let connection = try Connection(uri: "qemu:///embed?root=\(root.path)")
        defer { connection.close() }
        let opened = lap()
        #expect(connection.uri.hasPrefix("qemu:///embed"))

        let name = uniqueDomainName("qemu")
        let (events, registration) = try recordLifecycle(of: name, on: connection)
        defer { registration.cancel() }

        // The first domain in a fresh root pays for the QEMU capabilities probe of its emulator.
        let domain = try connection.createTransientDomain(
            xml: Self.domainXML(name: name, emulator: emulator), startPaused: true)
        let created = lap()
        defer { try? domain.destroy() }
        #expect(try domain.state().kind == .paused)

        // A console on a quiet (paused) guest closes at once, and ends its reader with nil.
        let quiet = try domain.openConsole()
        let quietEnds = Recorder<LibvirtError?>()
        quiet.startReading(onData: { _ in }, onEnd: { quietEnds.append($0) })
        quiet.close()
        quiet.close()
        #expect(quiet.isClosed)
        #expect(quietEnds.all.count == 1 && quietEnds.all.first! == nil)
        let quietClosed = lap()

        let console = try domain.openConsole()
        defer { console.close() }
        let output = Recorder<[UInt8]>()
        let ends = Recorder<LibvirtError?>()
        console.startReading(onData: { output.append($0) }, onEnd: { ends.append($0) })

        try domain.resume()
        #expect(try domain.state().kind == .running)
        let sawBanner = output.wait(timeout: 20) { chunks in
            String(decoding: chunks.joined(), as: UTF8.self).contains("SeaBIOS")
        }
        let firstOutput = lap()
        let text = String(decoding: output.all.joined(), as: UTF8.self)
        #expect(sawBanner, "console output so far: \(text.debugDescription)")

        try domain.destroy()
        #expect(try !domain.isActive())
        #expect(events.wait(timeout: 10) { $0.contains { $0.isStopped } })
        let stopped = events.all.first { $0.isStopped }
        #expect(stopped?.stoppedReason == "destroyed")
        #expect(events.all.contains { $0.kind == .resumed })

        // The console ends by itself once QEMU is gone (pty hang-up), as a normal end.
        #expect(ends.wait(timeout: 10) { !$0.isEmpty })
        #expect(ends.all.count == 1)
        #expect(ends.all.first.map { $0 == nil } ?? false, "console ended with \(String(describing: ends.all.first))")
        let destroyed = lap()

        // virConnectGetVersion builds the driver's full capabilities: it probes every installed
        // qemu-system-* binary, not just the one this domain used.
        let qemuVersion = try connection.hypervisorVersion()
        #expect(qemuVersion.split(separator: ".").count == 3, "\(qemuVersion)")
        let versioned = lap()

        print(
            "embedded QEMU \(qemuVersion): open \(opened), create (paused) \(created), "
                + "quiet console open+close \(quietClosed), resume to SeaBIOS banner \(firstOutput), "
                + "destroy to stopped+console end \(destroyed), first hypervisorVersion \(versioned); "
                + "events \(events.all.map(\.description)); \(output.all.joined().count) console bytes")
    }
}
