import Foundation
import Libvirt
import Testing
@testable import HarnessCore

extension Integration {
/// One run over two real libvirtd hosts, each alone in a network and mount namespace of its own
/// (Tests/Integration/libvirt-test-host.sh): reached over TCP on an address of that namespace, so
/// the kernels and initramfs travel as storage volumes and the console over the connection. The
/// tests send traffic to those namespaces' addresses only.
@Suite("Many hosts")
struct ManyHostsTests {
    static let script = HarnessProcess.packageRoot.appendingPathComponent("Tests/Integration/libvirt-test-host.sh")

    /// A libvirtd test host; `stop()` kills whatever runs in its namespace and removes its folders.
    final class TestHost {
        let index: Int
        let folder: URL
        let uri: String

        init(_ index: Int, without emulators: [String] = []) throws {
            try #require(getuid() == 0, "the libvirtd test hosts need root: network namespaces, veth pairs, bind mounts")
            self.index = index
            folder = HarnessProcess.scratchFolder("host\(index)")
            let hide = emulators.flatMap { ["--without-emulator", $0] }
            let started = try Self.script(["start", "\(index)", folder.path] + hide)
            if started.status != 0 { _ = try? Self.script(["stop", "\(index)", folder.path]) }
            try #require(started.status == 0, "test host \(index) did not start: \(started.error)")
            uri = started.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Loses the host mid-run: `kill` SIGKILLs its libvirtd, `cut` takes its network down. Its
        /// QEMUs live on until stop().
        func lose(by how: String) throws { _ = try Self.script([how, "\(index)"]) }

        func stop() { _ = try? Self.script(["stop", "\(index)", folder.path]) }

        /// The run's domains the host still knows, and the volumes in the harness's pool.
        func leftovers(ofRun pid: Int32) throws -> (domains: [String], volumes: [String]) {
            let connection = try Connection(uri: uri)
            defer { connection.close() }
            let domains = try connection.activeDomainNames().filter { $0.hasPrefix("\(HostConnection.domainPrefix)\(pid)-") }
            let volumes = try connection.storagePool(named: VolumeStager.defaultPoolName)?.volumeNames() ?? []
            return (domains, volumes)
        }

        static func script(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [ManyHostsTests.script.path] + arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            let error = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
        }
    }

    static func hostsFile(_ lines: [String]) throws -> URL {
        let file = HarnessProcess.scratchFolder("hosts").appendingPathExtension("txt")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static let resultExits: Set<Int32> = [0, 1, 4]

    @Test("a matrix spread over two hosts, each lacking the other's arch: every target goes where it can run, the files go as volumes, a second run uploads nothing and answers the same")
    func spread() throws {
        // Each host lacks the other's arch, so where each target runs is decided by capability
        // alone, and a second run needs exactly the files the first left on each host.
        let x86Host = try TestHost(21, without: ["qemu-system-aarch64"]), armHost = try TestHost(22, without: ["qemu-system-x86_64"])
        defer { x86Host.stop(); armHost.stop() }
        let hosts = try Self.hostsFile(["# two test hosts", "\(x86Host.uri) capacity=1", "\(armHost.uri) capacity=1"])
        defer { try? FileManager.default.removeItem(at: hosts) }
        var reports: [RunReport] = []
        for pass in 1...2 {
            let out = HarnessProcess.scratchFolder("hosts-\(pass)")
            defer { try? FileManager.default.removeItem(at: out) }
            let result = try HarnessProcess.run(["run", "--arch", "arm64", "x86_64", "--variant", "direct", "iommu",
                                                 "--hosts", hosts.path, "--out", out.path])
            #expect(Self.resultExits.contains(result.exitCode), "run \(pass): \(result.standardError.suffix(800))")
            let report = try HarnessProcess.report(in: out)
            reports.append(report)
            #expect(report.targets.count == 4)
            for target in report.targets {
                #expect([.passed, .failed].contains(target.status), "run \(pass) \(target.id): \(target.status) \(target.reason ?? "")")
                #expect(target.summary.total > 300, "\(target.id): the whole suite came over the console stream")
                #expect(target.logs.qemu == nil && target.logs.notKept?["qemu"]?.contains(target.host ?? "?") == true)
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(target.id)/console.log").path))
                let expected = target.arch == "x86_64" ? x86Host.uri : armHost.uri
                #expect(target.host == expected, "\(target.id) ran on \(target.host ?? "nil")")
            }
            let records = try #require(report.run.hosts)
            #expect(records.map(\.uri) == [x86Host.uri, armHost.uri])
            #expect(records.allSatisfy { $0.artifacts == .volumes && $0.capacity == 1 && $0.cpus ?? 0 >= 1 && $0.kvm != nil })
            #expect(records[0].arches?.contains("x86_64") == true && records[0].arches?.contains("aarch64") == false)
            #expect(records[1].arches?.contains("aarch64") == true && records[1].arches?.contains("x86_64") == false)
            let uploaded = records.map { $0.uploadedBytes ?? 0 }
            if pass == 1 {
                #expect(uploaded.allSatisfy { $0 > 5_000_000 }, "the first run sends each host its kernels and initramfs: \(uploaded)")
            } else {
                #expect(uploaded == [0, 0], "the second run finds every file on its host by digest: \(uploaded)")
                #expect(records.allSatisfy { ($0.reusedVolumes ?? 0) >= 2 })
            }
            for host in [x86Host, armHost] {
                let (domains, volumes) = try host.leftovers(ofRun: result.pid)
                #expect(domains.isEmpty, "\(host.uri) keeps \(domains)")
                #expect(!volumes.isEmpty && volumes.allSatisfy { $0.hasPrefix("sha256-") }, "kept volumes (policy keep), no partial one: \(volumes)")
            }
            #expect(Leftovers(of: result, out: out).found().isEmpty, "\(Leftovers(of: result, out: out).found())")
        }
        // Same input, same answer, run after run on the remote path.
        for target in reports[0].targets {
            let again = try #require(reports[1].targets.first { $0.id == target.id })
            #expect(testStatuses(target) == testStatuses(again), "\(target.id) on \(target.host ?? "") and \(again.host ?? "")")
        }
    }

    @Test("a host lost mid-run (its daemon killed, its network cut): its target moves once to the other host, the lost attempt's console is kept, nothing of the run stays on the survivor",
          arguments: ["kill", "cut"])
    func hostLoss(how: String) throws {
        let survivor = try TestHost(how == "kill" ? 23 : 25), doomed = try TestHost(how == "kill" ? 24 : 26)
        defer { survivor.stop(); doomed.stop() }
        let hosts = try Self.hostsFile(["\(survivor.uri) capacity=1", "\(doomed.uri) capacity=1"])
        defer { try? FileManager.default.removeItem(at: hosts) }
        let out = HarnessProcess.scratchFolder("hosts-loss")
        defer { try? FileManager.default.removeItem(at: out) }
        let ids = ["arm64-direct", "arm64-iommu"]
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--variant", "direct", "iommu", "--hosts", hosts.path,
                                             "--volumes", "remove", "--out", out.path]) { _, _ in
            // Both guests printing: one on each host. Then the second host's daemon dies.
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, !ids.allSatisfy({ id in
                ((try? FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("\(id)/console.log").path)[.size]) as? Int ?? 0) > 4096
            }) { Thread.sleep(forTimeInterval: 0.2) }
            try? doomed.lose(by: how)
        }
        #expect(Self.resultExits.contains(result.exitCode), "\(result.standardError.suffix(800))")
        let report = try HarnessProcess.report(in: out)
        let moved = report.targets.filter { $0.hostLosses != nil }
        #expect(moved.count == 1, "one target was on the lost host: \(report.targets.map { "\($0.id) \($0.hostLosses?.count ?? 0)" })")
        for target in report.targets {
            #expect([.passed, .failed].contains(target.status), "\(target.id): \(target.status) \(target.reason ?? "")")
            #expect(target.host == survivor.uri)
        }
        if let target = moved.first, let loss = target.hostLosses?.first {
            #expect(target.hostLosses?.count == 1 && loss.host == doomed.uri && !loss.reason.isEmpty)
            let kept = try #require(loss.console)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(kept).path), "the lost attempt's console")
        }
        let records = try #require(report.run.hosts)
        #expect(records.first { $0.uri == doomed.uri }?.lost != nil && records.first { $0.uri == survivor.uri }?.lost == nil)
        let (domains, volumes) = try survivor.leftovers(ofRun: result.pid)
        #expect(domains.isEmpty && volumes.isEmpty, "the survivor keeps \(domains) \(volumes) (policy remove)")
        // The lost host's QEMU outlives its daemon on that host; the test host's stop ends it.
        doomed.stop()
        #expect(Leftovers(of: result, out: out).found().isEmpty, "\(Leftovers(of: result, out: out).found())")
    }

    @Test("a harness killed with SIGKILL mid-boot takes its remote domain with it (autodestroy)")
    func killedHarness() throws {
        let host = try TestHost(27)
        defer { host.stop() }
        let out = HarnessProcess.scratchFolder("hosts-sigkill")
        defer { try? FileManager.default.removeItem(at: out) }
        let console = out.appendingPathComponent("arm64-direct/console.log")
        var running: [String] = []
        let result = try HarnessProcess.run(["run", "--arch", "arm64", "--connect", host.uri, "--out", out.path]) { process, _ in
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: console.path)[.size]) as? Int ?? 0) == 0 {
                Thread.sleep(forTimeInterval: 0.2)
            }
            running = (try? host.leftovers(ofRun: process.processIdentifier).domains) ?? []
            kill(process.processIdentifier, SIGKILL)
        }
        #expect(result.exitCode == 9 || result.exitCode == 137, "killed: \(result.exitCode)")
        #expect(running.count == 1, "the guest was running on the host when the harness died: \(running)")
        // libvirtd destroys an autodestroy domain when the connection that made it closes.
        let deadline = Date().addingTimeInterval(30)
        var left = try host.leftovers(ofRun: result.pid).domains
        while !left.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            left = try host.leftovers(ofRun: result.pid).domains
        }
        #expect(left.isEmpty, "the host still runs \(left)")
        #expect(Leftovers(of: result, out: out).processes().isEmpty, "\(Leftovers(of: result, out: out).processes())")
    }

    func testStatuses(_ target: TargetReport) -> [String: TestStatus] {
        Dictionary(target.suites.flatMap { suite in suite.tests.map { ("\(suite.name).\($0.name)", $0.status) } },
                   uniquingKeysWith: { first, _ in first })
    }
}
}
