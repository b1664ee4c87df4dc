import Foundation
import Testing
@testable import HarnessCore

extension Integration {
/// The guest C follows the kernel's coding style, judged by the kernel's own checkpatch.pl.
@Suite("Guest C style")
struct GuestStyleTests {
    static let tarball = "/usr/src/linux-source-6.1.tar.xz"

    /// checkpatch.pl and the two data files it reads, extracted once from Debian's linux-source-6.1.
    static func checkpatchTree() throws -> URL {
        let tree = RunOptions.defaultCacheRoot.appendingPathComponent("checkpatch")
        let script = tree.appendingPathComponent("linux-source-6.1/scripts/checkpatch.pl")
        if FileManager.default.fileExists(atPath: script.path) { return script.deletingLastPathComponent().deletingLastPathComponent() }
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try Subprocess.checked("tar", ["-xJf", tarball, "-C", tree.path] + ["checkpatch.pl", "spelling.txt", "const_structs.checkpatch"]
            .map { "linux-source-6.1/scripts/\($0)" })
        return script.deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("checkpatch.pl --strict finds nothing in harness/module",
          .enabled(if: FileManager.default.fileExists(atPath: tarball), "apt-get install linux-source-6.1"))
    func checkpatchStrict() throws {
        let source = try Self.checkpatchTree()
        let outcome = try Subprocess.run("sh", [HarnessProcess.packageRoot.appendingPathComponent("harness/check-style.sh").path,
                                                source.path])
        #expect(outcome.exitCode == 0, "\(outcome.standardOutput)\(outcome.standardError)")
    }
}
}
