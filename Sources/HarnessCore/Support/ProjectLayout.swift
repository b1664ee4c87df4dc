import Foundation

/// Where the project's data lives at run time: the guest sources (`harness/`) and the image data (`images/`).
public struct ProjectLayout: Sendable {
    /// The checkout's top folder.
    public var root: URL

    public var moduleSources: URL { root.appendingPathComponent("harness/module") }
    public var initScript: URL { root.appendingPathComponent("harness/initramfs/init") }
    public var profilesDirectory: URL { root.appendingPathComponent("images/profiles") }
    public var recipesDirectory: URL { root.appendingPathComponent("images/recipes") }
    public var suitesFile: URL { root.appendingPathComponent("images/suites.json") }
    public var helperSources: URL { root.appendingPathComponent("harness/helper") }

    public init(root: URL) { self.root = root }

    /// Finds the checkout: `$DMA_HARNESS_HOME`, else the nearest folder above the executable or the
    /// working directory that holds both `harness/module` and `images/profiles`.
    public static func locate(executablePath: String = CommandLine.arguments.first ?? "") throws -> ProjectLayout {
        if let home = ProcessInfo.processInfo.environment["DMA_HARNESS_HOME"] {
            let layout = ProjectLayout(root: URL(fileURLWithPath: home))
            guard layout.isComplete else {
                throw HarnessError.usage("DMA_HARNESS_HOME=\(home) is not a dma-harness checkout (no harness/module or images/profiles)")
            }
            return layout
        }
        let starts = [
            URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        ]
        for start in starts {
            var folder = start.standardizedFileURL
            while folder.path != "/" {
                let layout = ProjectLayout(root: folder)
                if layout.isComplete { return layout }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw HarnessError.usage(
            "cannot find the dma-harness checkout: run from inside it or set DMA_HARNESS_HOME to its folder")
    }

    private var isComplete: Bool {
        FileManager.default.fileExists(atPath: moduleSources.path)
            && FileManager.default.fileExists(atPath: profilesDirectory.path)
    }
}
