import Foundation

/// Makes Debian's headers packages, extracted anywhere, usable for an out-of-tree module build
/// (FIELD-NOTES, "Building an out-of-tree module for a foreign Debian kernel").
public enum KernelHeaders {
    /// Rewrites the flavour Makefile's absolute include of `-common`, and points the `scripts` and
    /// `tools` links of both trees at the host's kbuild binaries (a cross build runs host tools).
    public static func fixUp(flavour: URL, common: URL, hostKbuild: URL) throws {
        let makefile = flavour.appendingPathComponent("Makefile")
        guard FileManager.default.fileExists(atPath: makefile.path),
              FileManager.default.fileExists(atPath: common.appendingPathComponent("Makefile").path)
        else {
            throw HarnessError.infrastructure("headers at \(flavour.path) are incomplete (no Makefile in the flavour or -common tree)")
        }
        try "include \(common.path)/Makefile\n".write(to: makefile, atomically: true, encoding: .utf8)
        for tree in [flavour, common] {
            for name in ["scripts", "tools"] {
                let link = tree.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: link)
                try FileManager.default.createSymbolicLink(
                    at: link, withDestinationURL: hostKbuild.appendingPathComponent(name))
            }
        }
    }
}
