import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot the targets, run the guest suite, and write report.json.")

        @Option(name: .long, parsing: .upToNextOption, help: "Architectures: \(DataNames.arches), or all.")
        var arch: [String] = []

        @Option(name: .long, parsing: .upToNextOption, help: "Variants: direct, or all (default direct; all with --target).")
        var variant: [String] = []

        @Option(name: .long, parsing: .upToNextOption, help: "Debian kernel lines: \(DataNames.suites), or all.")
        var debian: [String] = []

        @Option(name: .long, help: "Only targets matching this glob (repeatable), e.g. '*-iommu' or '*-direct-sid'.")
        var target: [String] = []

        @Option(name: .long, help: "Only the i-th of n round-robin shards of the selected targets (i/n), as the nightly matrix runs.")
        var shard: String?

        @Option(name: .long, help: "A waiver file: listed deviations are expected (XFAIL) in report.json and the exit code.")
        var waivers: String?

        @Option(name: .long, help: "Your own kernel image to boot instead of Debian's (needs --kbuild and one --arch).")
        var kernel: String?

        @Option(name: .long, help: "The built kernel tree --kernel came from; the guest driver is built in it.")
        var kbuild: String?

        @Option(name: .long, help: "A libvirt host's URI (repeatable; default: the embedded QEMU driver under the cache, no daemon). Remote hosts get the files as storage volumes.")
        var connect: [String] = []

        @Option(name: .long, help: "A file of libvirt hosts, one per line: URI [capacity=N] [pool=NAME] (README, \"Many hosts\").")
        var hosts: String?

        @Option(name: .long, help: "Volumes uploaded to remote hosts: keep (a cache by content digest, the default) or remove at the end of the run.")
        var volumes: VolumePolicy = .keep

        @Option(name: .long, help: "Seconds a guest may take from start to power-off before it counts as hung.")
        var timeout: Double = 300

        @Option(name: .long, help: "Targets booted at once.")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .customLong("edu-dma-bits"), help: "DMA mask width of the edu device, 12 to 64 (the driver is told the same).")
        var eduDMABits: Int = 32

        @Option(name: .long, help: "Guest clock for every target: realtime, or icount (instruction-counted, idle time skipped; in-guest figures in virtual ns). Default: each arch's profile clock.")
        var clock: GuestClock.Mode?

        @Option(name: .customLong("icount-shift"), help: "With --clock icount: 2^N ns of virtual time per guest instruction, 0 to 10 (default 0).")
        var icountShift: Int?

        @Option(name: .customLong("kernel-arg"), help: "Extra kernel command line word (repeatable).")
        var kernelArguments: [String] = []

        @Flag(name: .customLong("boot-self-tests"), help: "Let the kernel run its crypto self-tests at boot (skipped by default with cryptomgr.notests: no DMA check reads them, and under TCG they are most of the boot).")
        var bootSelfTests = false

        @Flag(name: .customLong("boot-compressed"), help: "Boot the kernel image as it is, decompressor and all (by default a profile with uncompressedBoot boots the kernel the harness unpacks from it once, on the host).")
        var bootCompressed = false

        @Option(name: .long, help: "Folder for report.json and each target's logs.")
        var out: String = "harness-out"

        @Flag(name: .long, help: "Print report.json on stdout instead of the table.")
        var json = false

        @OptionGroup var cache: CacheOptions

        func validate() throws {
            if arch.isEmpty && target.isEmpty { throw ValidationError("give --arch (\(DataNames.arches), all) or --target") }
            if (kernel == nil) != (kbuild == nil) {
                throw ValidationError("--kernel and --kbuild go together: the driver is built in the tree the kernel came from")
            }
            if timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
            if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if !(12...64).contains(eduDMABits) { throw ValidationError("--edu-dma-bits must be between 12 and 64") }
            if let icountShift, !(0...10).contains(icountShift) { throw ValidationError("--icount-shift must be between 0 and 10") }
            if icountShift != nil, clock != .icount { throw ValidationError("--icount-shift goes with --clock icount") }
        }

        func run() throws {
            try Harness.guarded {
                let layout = try ProjectLayout.locate()
                let kernelChoice: KernelChoice = kernel.map { .user(kernelFile: $0, kbuildDirectory: kbuild!) } ?? .debian
                let waiverList = try waivers.map { try Waivers.load(from: URL(fileURLWithPath: $0)) }
                // --target alone means "from every arch and variant"; --arch narrows before it.
                let arches = arch.isEmpty ? ["all"] : arch
                let variants = variant.isEmpty ? (target.isEmpty ? ["direct"] : ["all"]) : variant
                var options = RunOptions(
                    arches: arches, variants: variants, kernel: kernelChoice, connectURI: nil,
                    cacheRoot: cache.cacheRoot, outDirectory: URL(fileURLWithPath: out).standardizedFileURL,
                    timeout: timeout, jobs: jobs, extraKernelArguments: kernelArguments,
                    commandLine: CommandLine.arguments)
                options.eduDMABits = eduDMABits
                options.bootSelfTests = bootSelfTests
                options.bootCompressed = bootCompressed
                options.hosts = try HostList.combine(connectURIs: connect, hostsFile: try hosts.map(HostList.load) ?? [])
                options.volumePolicy = volumes
                options.suites = debian
                options.clock = clock.map { GuestClock(mode: $0, shift: icountShift) }
                options.selection = TargetSelection(patterns: target, shard: try shard.map(TargetSelection.parseShard))
                if let waiverList, let waivers { options.waivers = (waivers, waiverList) }
                let cancellation = Cancellation()
                let signals = SignalTrap(cancellation: cancellation)
                defer { signals.restore() }
                let run = HarnessRun(options: options, layout: layout, cancellation: cancellation, logger: cache.makeLogger())
                let display = ProgressDisplay(quiet: false)
                let (report, status) = try run.execute(stageStarted: display.stageStarted) { target in
                    // One line per target as it ends; a host-side failure says what to fix.
                    let line = target.status == .error
                        ? "harness: \(target.id): \(target.reason ?? "failed")\n"
                        : "\(target.id): \(target.status.rawValue)\n"
                    display.finished(line, target: target.id)
                }
                display.stop()
                for stale in report.waivers?.stale ?? [] {
                    FileHandle.standardError.write(Data("harness: stale waiver \(stale.target) \(stale.test ?? stale.attribute ?? stale.finding ?? ""): no longer occurs\n".utf8))
                }
                if json {
                    print(String(decoding: try Data(contentsOf: run.reportFile), as: UTF8.self))
                } else {
                    print(SummaryTable.render(report), terminator: "")
                    print("report: \(run.reportFile.path)")
                }
                if status == .interrupted { FileHandle.standardError.write(Data("harness: interrupted; partial report kept\n".utf8)) }
                return status
            }
        }
    }
}

/// Turns SIGINT and SIGTERM into a cancellation, so the run destroys its domains and writes what it has.
final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []

    init(cancellation: Cancellation) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // A second Ctrl-C must not cut the clean-up short: the domains are being destroyed.
                if cancellation.isCancelled {
                    FileHandle.standardError.write(Data("harness: already stopping; destroying the domains and writing the partial report\n".utf8))
                }
                cancellation.cancel()
            }
            source.resume()
            sources.append(source)
        }
    }

    func restore() {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

extension GuestClock.Mode: ExpressibleByArgument {}
extension VolumePolicy: ExpressibleByArgument {}
