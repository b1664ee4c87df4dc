import Foundation

/// One host check: what was looked for, whether it is there, and how to fix it if not.
public struct DoctorCheck: Sendable {
    public var name: String
    public var ok: Bool
    /// What was found, or the fix (the apt package to install).
    public var detail: String
    /// A missing optional piece (KVM) does not fail the doctor.
    public var required: Bool
}

/// `harness doctor`: checks that this host has everything a run needs, and whether KVM really works.
public enum Doctor {
    public static func checks(catalog: ArchCatalog, cachedKernel: String?) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        func tool(_ name: String, package: String) {
            let path = Subprocess.resolve(name)
            checks.append(DoctorCheck(name: name, ok: path != nil,
                                      detail: path ?? "missing: apt-get install \(package)", required: true))
        }
        for profile in catalog.names.compactMap({ catalog.profiles[$0] }) {
            tool(profile.qemuBinary, package: profile.qemuPackage)
            tool(profile.crossCompilePrefix + "gcc", package: profile.crossCompilerPackage)
        }
        tool("make", package: "make")
        tool("apt-get", package: "apt")
        tool("dpkg-deb", package: "dpkg")
        tool("sha256sum", package: "coreutils")
        tool("gzip", package: "gzip")
        let kbuild = ImageProvisioner.hostKbuild.appendingPathComponent("scripts/basic/fixdep")
        checks.append(DoctorCheck(
            name: "linux-kbuild-6.1", ok: FileManager.default.fileExists(atPath: kbuild.path),
            detail: FileManager.default.fileExists(atPath: kbuild.path) ? kbuild.path
                : "missing: apt-get install linux-kbuild-6.1", required: true))
        let driver = qemuDriverPath()
        checks.append(DoctorCheck(
            name: "libvirt QEMU driver", ok: driver != nil,
            detail: driver ?? "missing: apt-get install libvirt-daemon-driver-qemu", required: true))
        checks.append(kvmProbe(kernel: cachedKernel))
        return checks
    }

    static func qemuDriverPath() -> String? {
        let candidates = ["/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
                          "/usr/lib/aarch64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
                          "/usr/lib64/libvirt/connection-driver/libvirt_driver_qemu.so"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Proves KVM works rather than trusting /dev/kvm, in two bounded steps: a 512-byte x86 boot
    /// sector that writes `K` to the serial port and exits QEMU through `isa-debug-exit` (the CPU runs
    /// guest code), then, when an x86 kernel is cached, a `-kernel` boot that must print its banner
    /// (on some hosts KVM runs the first yet spins forever at "Booting from ROM").
    public static func kvmProbe(kernel: String?) -> DoctorCheck {
        let name = "KVM"
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            return DoctorCheck(name: name, ok: false, detail: "no /dev/kvm: guests run under TCG", required: false)
        }
        #if arch(x86_64)
        guard Subprocess.resolve("qemu-system-x86_64") != nil else {
            return DoctorCheck(name: name, ok: false, detail: "not probed: qemu-system-x86_64 missing", required: false)
        }
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("dma-harness-kvm-probe-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: image) }
        // mov dx,0x3f8; mov al,'K'; out dx,al; mov dx,0xf4; mov al,0x10; out dx,al; hlt; jmp $-1
        var sector: [UInt8] = [0xBA, 0xF8, 0x03, 0xB0, 0x4B, 0xEE, 0xBA, 0xF4, 0x00, 0xB0, 0x10, 0xEE, 0xF4, 0xEB, 0xFD]
        sector += [UInt8](repeating: 0, count: 510 - sector.count) + [0x55, 0xAA]
        guard (try? Data(sector).write(to: image)) != nil else {
            return DoctorCheck(name: name, ok: false, detail: "not probed: cannot write a temporary file", required: false)
        }
        let start = Date()
        let outcome = try? Subprocess.run("timeout", [
            "--kill-after=2", "10", "qemu-system-x86_64", "-accel", "kvm", "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-drive", "file=\(image.path),format=raw,if=floppy", "-boot", "a",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ])
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        // isa-debug-exit turns the guest's 0x10 into QEMU's exit status (0x10 << 1) | 1.
        if let outcome, outcome.exitCode == 33, outcome.standardOutput.contains("K") {
            guard let kernel else {
                return DoctorCheck(name: name, ok: true, detail: "runs a boot sector in \(seconds) s; kernel boot not probed (no x86_64 image cached)",
                                   required: false)
            }
            let boot = try? Subprocess.run("timeout", [
                "--kill-after=2", "15", "qemu-system-x86_64", "-accel", "kvm", "-display", "none", "-serial", "stdio", "-monitor", "none",
                "-m", "256", "-no-reboot", "-kernel", kernel, "-append", "console=ttyS0 panic=-1",
            ])
            if boot?.standardOutput.contains("Linux version") == true {
                return DoctorCheck(name: name, ok: true, detail: "works: a boot sector and a kernel boot ran under KVM", required: false)
            }
            return DoctorCheck(name: name, ok: false,
                               detail: "KVM runs a boot sector but a -kernel boot printed nothing in 15 s: guests run under TCG",
                               required: false)
        }
        let why = outcome.map { $0.exitCode == 124 ? "probe guest did not finish in 10 s" : "qemu exited \($0.exitCode): \($0.tail(lines: 1))" }
            ?? "probe could not start"
        return DoctorCheck(name: name, ok: false, detail: "/dev/kvm exists but KVM does not work (\(why)): guests run under TCG",
                           required: false)
        #else
        return DoctorCheck(name: name, ok: false, detail: "probe only implemented on x86_64 hosts: guests run under TCG", required: false)
        #endif
    }
}
