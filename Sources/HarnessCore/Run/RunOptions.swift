import Foundation

/// What the user asked `harness run` to do.
public struct RunOptions: Sendable {
    public var arches: [String]
    public var variants: [String]
    /// `--debian`: the Debian kernel lines (suite names, or `all`); empty means the default line.
    public var suites: [String] = []
    public var kernel: KernelChoice
    /// The libvirt hosts (`--connect`, `--hosts`); empty means this machine's embedded driver.
    public var hosts: [HostEntry]
    /// What happens to the volumes a run uploaded to remote hosts (`--volumes`).
    public var volumePolicy: VolumePolicy = .keep
    public var cacheRoot: URL
    public var outDirectory: URL
    /// Per-target limit from resuming the guest to its power-off.
    public var timeout: TimeInterval
    public var jobs: Int
    /// Extra kernel command line words (`--kernel-arg`), appended after the profile's.
    public var extraKernelArguments: [String]
    /// `--boot-self-tests`: let the kernel run the boot-time self-tests the harness otherwise
    /// skips (`TargetPipeline.bootShortcuts`), as a check that skipping them changes no answer.
    public var bootSelfTests = false
    /// `--boot-compressed`: boot the kernel image as it is, not the uncompressed kernel the
    /// profile's `uncompressedBoot` unpacks from it, so the guest runs its own decompressor.
    public var bootCompressed = false
    /// The guest clock (`--clock`, `--icount-shift`); nil runs each arch on its profile's clock.
    public var clock: GuestClock?
    /// The DMA mask width of the edu device (`--edu-dma-bits`), 32 unless asked.
    public var eduDMABits = 32
    public var commandLine: [String]
    /// `--target` / `--shard`: which of the planned targets this run boots (Matrix/TargetSelection).
    public var selection = TargetSelection()
    /// A waiver file (`--waivers`) as the user named it, and its entries: applied before the one
    /// and only final write of report.json.
    public var waivers: (file: String, entries: [Waiver])? = nil

    public init(arches: [String], variants: [String], kernel: KernelChoice, connectURI: String?, cacheRoot: URL,
                outDirectory: URL, timeout: TimeInterval, jobs: Int, extraKernelArguments: [String],
                commandLine: [String]) {
        self.arches = arches
        self.variants = variants
        self.kernel = kernel
        self.hosts = connectURI.map { [HostEntry(uri: $0)] } ?? []
        self.cacheRoot = cacheRoot
        self.outDirectory = outDirectory
        self.timeout = timeout
        self.jobs = jobs
        self.extraKernelArguments = extraKernelArguments
        self.commandLine = commandLine
    }

    /// `$XDG_CACHE_HOME/dma-harness`, else `~/.cache/dma-harness`.
    public static var defaultCacheRoot: URL {
        if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("dma-harness")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/dma-harness")
    }
}

/// Volumes on remote hosts are named by content, so keeping them is a cache: a later run sends
/// nothing a host already holds. `remove` deletes, at the end of the run, every volume it used.
public enum VolumePolicy: String, Sendable, CaseIterable {
    case keep, remove
}

/// The harness's own version, recorded in every report.
public enum HarnessVersion {
    public static let string = "0.1.0"
}
