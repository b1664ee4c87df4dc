import Foundation

/// Makes Debian's headers packages, extracted anywhere, usable for an out-of-tree module build
/// (FIELD-NOTES, "Building an out-of-tree module for a foreign Debian kernel").
public enum KernelHeaders {
    /// Rewrites the flavour Makefile's absolute paths of both trees. The `scripts` and `tools`
    /// links of both trees are relative (`../../lib/linux-kbuild-X/...`), and the suite's kbuild
    /// package for the build host is extracted into the same tree, so they resolve as they are.
    public static func fixUp(flavour: URL, common: URL) throws {
        let makefile = flavour.appendingPathComponent("Makefile")
        guard FileManager.default.fileExists(atPath: makefile.path),
              FileManager.default.fileExists(atPath: common.appendingPathComponent("Makefile").path)
        else {
            throw HarnessError.infrastructure("headers at \(flavour.path) are incomplete (no Makefile in the flavour or -common tree)")
        }
        // The flavour's Makefile names both trees by their installed paths (`include`, and on newer
        // lines `KBUILD_OUTPUT=`): point each at where it was extracted.
        let installed = "/usr/src/"
        let extracted = flavour.deletingLastPathComponent().path + "/"
        let text = try String(contentsOf: makefile, encoding: .utf8)
        if !text.contains(extracted) {
            try text.replacingOccurrences(of: installed, with: extracted).write(to: makefile, atomically: true, encoding: .utf8)
        }
        for tree in [flavour, common] {
            for name in ["scripts", "tools"] {
                let link = tree.appendingPathComponent(name)
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) else { continue }
                let resolved = URL(fileURLWithPath: target, relativeTo: tree).standardizedFileURL
                guard !FileManager.default.fileExists(atPath: resolved.path) else { continue }
                // The kbuild package did not land where the headers expect it.
                throw HarnessError.infrastructure("\(link.path) points at \(target), which the extracted kbuild package does not provide")
            }
        }
    }
}
