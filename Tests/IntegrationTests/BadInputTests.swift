import Foundation
import Testing
@testable import HarnessCore

/// Each bad input gets one line on stderr naming the problem and the fix, and a documented exit code.
extension Integration {
@Suite("Bad input and missing pieces")
struct BadInputTests {
    /// The one line the CLI prints for an error.
    func errorLine(_ result: HarnessProcess.Result) -> String {
        let lines = result.standardError.split(separator: "\n").filter { $0.hasPrefix("harness: ") || $0.hasPrefix("Error: ") }
        return lines.last.map(String.init) ?? result.standardError
    }

    static func cachedImage(_ arch: String) throws -> GuestImage {
        let provisioner = ImageProvisioner(cacheRoot: RunOptions.defaultCacheRoot,
                                           layout: ProjectLayout(root: HarnessProcess.packageRoot),
                                           logger: .init(label: "test"))
        let suite = try SuiteCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot)).defaultSuite
        return try provisioner.provision(arch: arch, suite: suite).0
    }

    @Test("an unknown arch lists the valid ones")
    func unknownArch() throws {
        let result = try HarnessProcess.run(["run", "--arch", "sparc", "--out", HarnessProcess.scratchFolder("x").path])
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        let line = errorLine(result)
        for arch in ["arm", "arm64", "x86_64", "all"] { #expect(line.contains(arch)) }
        #expect(!result.standardError.contains("Fatal error"))
    }

    @Test("option errors exit with the usage code, not ArgumentParser's 64", arguments: [
        (["run"], "--arch"),
        (["run", "--arch", "arm", "--timeout", "-5"], "--timeout"),
        (["report", "/dev/null", "--format", "pdf"], "--format"),
    ])
    func optionErrors(arguments: [String], named option: String) throws {
        let result = try HarnessProcess.run(arguments)
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        #expect(result.standardError.contains(option))
    }

    @Test("an arch without a kernel on the asked-for line says why, in one line, and which lines have one")
    func archWithoutKernelOnLine() throws {
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        for arch in catalog.names {
            let without = catalog.suites.names.filter { catalog.unavailability(arch: arch, suite: $0) != nil }
            guard let line = without.first else { continue }
            let out = HarnessProcess.scratchFolder("noline")
            defer { try? FileManager.default.removeItem(at: out) }
            let result = try HarnessProcess.run(["run", "--arch", arch, "--debian", line, "--out", out.path])
            #expect(result.exitCode == ExitStatus.usage.rawValue)
            let message = errorLine(result)
            #expect(message.contains(arch) && message.contains(line) && message.contains(catalog.unavailability(arch: arch, suite: line)!))
            #expect(!result.standardError.contains("Fatal error") && result.standardError.split(separator: "\n").count == 1)
        }
    }

    @Test("a missing kernel file is named")
    func missingKernel() throws {
        let out = HarnessProcess.scratchFolder("nokernel")
        defer { try? FileManager.default.removeItem(at: out) }
        let image = try Self.cachedImage("arm")
        let result = try HarnessProcess.run(["run", "--arch", "arm", "--out", out.path,
                                             "--kernel", "/nonexistent/zImage", "--kbuild", image.kbuildDirectory])
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        #expect(errorLine(result).contains("/nonexistent/zImage"))
        #expect(try HarnessProcess.report(in: out).targets.first?.failedStage == .provision)
    }

    @Test("a kernel of the wrong arch is refused before booting")
    func wrongArchKernel() throws {
        let out = HarnessProcess.scratchFolder("wrongarch")
        defer { try? FileManager.default.removeItem(at: out) }
        let x86 = try Self.cachedImage("x86_64")
        let arm = try Self.cachedImage("arm")
        let result = try HarnessProcess.run(["run", "--arch", "arm", "--out", out.path,
                                             "--kernel", x86.kernelImage, "--kbuild", arm.kbuildDirectory])
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        #expect(errorLine(result).contains("ARM zImage"))
    }

    @Test("a --kbuild tree of another release than --kernel is refused (vermagic)")
    func kbuildMismatch() throws {
        let out = HarnessProcess.scratchFolder("vermagic")
        defer { try? FileManager.default.removeItem(at: out) }
        let x86 = try Self.cachedImage("x86_64")
        let arm = try Self.cachedImage("arm")
        let result = try HarnessProcess.run(["run", "--arch", "x86_64", "--out", out.path,
                                             "--kernel", x86.kernelImage, "--kbuild", arm.kbuildDirectory])
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        let line = errorLine(result)
        #expect(line.contains(x86.kernelRelease) && line.contains(arm.kernelRelease))
    }

    @Test("a missing host tool names its apt package and the stage it stopped", arguments: [
        ("qemu-system-x86_64", "x86_64", "qemu-system-x86", StageName.boot),
    ])
    func missingHostTool(tool: String, arch: String, package: String, stage: StageName) throws {
        let out = HarnessProcess.scratchFolder("no-\(tool)")
        let (path, folder) = try HarnessProcess.pathWithout([tool])
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: folder) }
        let result = try HarnessProcess.run(["run", "--arch", arch, "--out", out.path], environment: ["PATH": path])
        #expect(result.exitCode == ExitStatus.infrastructure.rawValue)
        #expect(errorLine(result).contains("apt-get install \(package)"))
        #expect(try HarnessProcess.report(in: out).targets.first?.failedStage == stage)
    }

    @Test("a missing compiler of the generation the kernel names is one line with its apt package, at the build stage")
    func missingKernelCompiler() throws {
        let image = try Self.cachedImage("arm64")
        let catalog = try ArchCatalog(layout: ProjectLayout(root: HarnessProcess.packageRoot))
        let profile = try catalog.profile(named: "arm64")
        let named = try #require(image.kernelConfigValues()["CONFIG_CC_VERSION_TEXT"])
        let major = try #require(Toolchain.gccMajor(named.trimmingCharacters(in: CharacterSet(charactersIn: "\""))))
        let tool = "\(profile.gnuTriplet)-gcc-\(major)"
        let out = HarnessProcess.scratchFolder("no-\(tool)")
        let (path, folder) = try HarnessProcess.pathWithout([tool])
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: folder) }
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path], environment: ["PATH": path])
        #expect(result.exitCode == ExitStatus.infrastructure.rawValue)
        #expect(errorLine(result).contains("apt-get install gcc-\(major)-\(profile.gnuTriplet)"), "\(errorLine(result))")
        #expect(try HarnessProcess.report(in: out).targets.first?.failedStage == .build)
    }

    @Test("an unreachable libvirt is one line that points at the package and the doctor")
    func libvirtUnreachable() throws {
        let out = HarnessProcess.scratchFolder("nolibvirt")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--out", out.path,
                                             "--connect", "qemu+unix:///system?socket=/nonexistent/libvirt-sock"])
        #expect(result.exitCode == ExitStatus.infrastructure.rawValue)
        let line = errorLine(result)
        #expect(line.contains("libvirt") && line.contains("harness doctor"))
    }

    @Test("an unwritable --out is refused")
    func unwritableOut() throws {
        let result = try HarnessProcess.run(["run", "--arch", "arm", "--out", "/proc/dma-harness-out"])
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        #expect(errorLine(result).contains("--out"))
    }

    @Test("doctor checks the host and probes KVM")
    func doctor() throws {
        let result = try HarnessProcess.run(["doctor"])
        #expect(result.exitCode == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.contains("KVM"))
        #expect(result.standardOutput.contains("qemu-system-arm"))
    }
}
}
