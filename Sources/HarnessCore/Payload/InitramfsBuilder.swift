import Foundation

/// The build stage's second product: the initramfs the guest boots, holding busybox, the init,
/// the guest driver and the driver's arguments.
public struct InitramfsBuilder: Sendable {
    public var cacheRoot: URL
    public var layout: ProjectLayout

    public init(cacheRoot: URL, layout: ProjectLayout) {
        self.cacheRoot = cacheRoot
        self.layout = layout
    }

    /// Writes (or reuses) the initramfs for these inputs and returns its path.
    public func build(
        module: BuiltModule, helper: URL?, image: GuestImage, profile: ArchProfile, moduleArguments: [String]
    ) throws -> (URL, fromCache: Bool) {
        guard FileManager.default.fileExists(atPath: layout.initScript.path) else {
            throw HarnessError.usage("guest init script missing: expected \(layout.initScript.path)")
        }
        let arguments = moduleArguments.joined(separator: " ") + "\n"
        let key = try InputKey.digest(
            files: [layout.initScript, module.moduleFile, URL(fileURLWithPath: image.busybox)] + (helper.map { [$0] } ?? []),
            facts: [profile.name, arguments])
        let file = cacheRoot.appendingPathComponent("builds/\(profile.name)/initramfs-\(key.prefix(16)).cpio")
        if FileManager.default.fileExists(atPath: file.path) { return (file, true) }

        var archive = CpioArchive()
        for directory in ["bin", "dev", "proc", "sys", "tmp", "etc", "etc/dma-harness"] {
            archive.add(.directory(path: directory))
        }
        // The kernel opens /dev/console for PID 1's stdio before devtmpfs is mounted.
        archive.add(.characterDevice(path: "dev/console", major: 5, minor: 1))
        archive.add(.file(path: "bin/busybox", contents: try Data(contentsOf: URL(fileURLWithPath: image.busybox)),
                          executable: true))
        archive.add(.symlink(path: "bin/sh", target: "busybox"))
        archive.add(.file(path: "init", contents: try Data(contentsOf: layout.initScript), executable: true))
        if let helper {
            archive.add(.file(path: "bin/dma-harness-helper", contents: try Data(contentsOf: helper), executable: true))
        }
        archive.add(.file(path: "dma_harness.ko", contents: try Data(contentsOf: module.moduleFile), executable: false))
        archive.add(.file(path: "etc/dma-harness/insmod-args", contents: Data(arguments.utf8), executable: false))

        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try archive.encoded().write(to: file, options: .atomic)
        return (file, false)
    }
}
