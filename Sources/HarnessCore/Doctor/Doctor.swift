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
    /// `nativeKernel` is a cached kernel of the host's own arch, the KVM probe's guest, when there is one.
    public static func checks(catalog: ArchCatalog, nativeKernel: (ArchProfile, String)?) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        func tool(_ name: String, package: String, required: Bool = true, purpose: String = "") {
            let path = Subprocess.resolve(name)
            checks.append(DoctorCheck(name: name, ok: path != nil,
                                      detail: path ?? "missing: apt-get install \(package)\(purpose)", required: required))
        }
        for profile in catalog.names.compactMap({ catalog.profiles[$0] }) {
            tool(profile.qemuBinary, package: profile.qemuPackage)
            // The host's own Debian line builds with the host's compilers; other lines bring theirs.
            guard let recipe = catalog.recipes[profile.name] else { continue }
            let names = Toolchain.names(profile: profile, recipe: recipe, gccMajor: nil)
            tool(names.compiler, package: names.compilerPackage)
        }
        tool("make", package: "make")
        tool("apt-get", package: "apt")
        tool("dpkg-deb", package: "dpkg")
        tool("sha256sum", package: "coreutils")
        tool("gzip", package: "gzip")
        let otherLines = catalog.suites.names.filter { $0 != SuiteCatalog.hostSuiteName() }.joined(separator: ", ")
        tool("mmdebstrap", package: "mmdebstrap", purpose: " (makes the build roots of \(otherLines))")
        tool("bwrap", package: "bubblewrap", purpose: " (enters the build roots of \(otherLines))")
        let driver = qemuDriverPath()
        checks.append(DoctorCheck(
            name: "libvirt QEMU driver", ok: driver != nil,
            detail: driver ?? "missing: apt-get install libvirt-daemon-driver-qemu", required: true))
        checks.append(kvmProbe(kernel: nativeKernel))
        return checks
    }

    /// libvirt's QEMU driver module, wherever the host's multiarch library folder is.
    static func qemuDriverPath() -> String? {
        let libraries = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []).map { "/usr/lib/\($0)" }
        let candidates = (libraries + ["/usr/lib64"]).map { "\($0)/libvirt/connection-driver/libvirt_driver_qemu.so" }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Proves KVM works rather than trusting /dev/kvm: a kernel of the host's own arch, booted
    /// under KVM for at most 15 s, must print its banner (on some hosts KVM starts a guest that
    /// then spins forever at "Booting from ROM").
    public static func kvmProbe(kernel: (ArchProfile, String)?) -> DoctorCheck {
        let name = "KVM"
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            return DoctorCheck(name: name, ok: false, detail: "no /dev/kvm: guests run under TCG", required: false)
        }
        guard let (profile, image) = kernel else {
            return DoctorCheck(name: name, ok: false,
                               detail: "/dev/kvm exists, not probed: no kernel of the host's arch cached (harness images fetch): guests run under TCG",
                               required: false)
        }
        guard Subprocess.resolve(profile.qemuBinary) != nil else {
            return DoctorCheck(name: name, ok: false, detail: "not probed: \(profile.qemuBinary) missing", required: false)
        }
        let start = Date()
        let boot = try? Subprocess.run("timeout", [
            "--kill-after=2", "15", profile.qemuBinary, "-accel", "kvm", "-machine", profile.machine, "-cpu", "host",
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-m", "256", "-no-reboot",
            "-kernel", image, "-append", "console=\(profile.consoleDevice) panic=-1",
        ])
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        if boot?.standardOutput.contains("Linux version") == true {
            return DoctorCheck(name: name, ok: true, detail: "works: a \(profile.name) kernel printed its banner under KVM in \(seconds) s", required: false)
        }
        let why = boot.map { $0.exitCode == 124 ? "no banner in 15 s" : "qemu exited \($0.exitCode): \($0.tail(lines: 1))" }
            ?? "probe could not start"
        return DoctorCheck(name: name, ok: false, detail: "/dev/kvm exists but KVM does not work (\(why)): guests run under TCG",
                           required: false)
    }
}
