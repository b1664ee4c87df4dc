import Foundation

/// File digests through coreutils' `sha256sum`.
public enum FileDigest {
    public static func sha256(of file: URL) throws -> String {
        let outcome = try Subprocess.checked("sha256sum", [file.path])
        return String(outcome.standardOutput.prefix { $0 != " " })
    }
}

/// A digest of files and facts, naming a build product by its inputs. One child process for all
/// files: this runs on every warm `harness run`, so its cost is part of the overhead over raw QEMU.
enum InputKey {
    static func digest(files: [URL], facts: [String]) throws -> String {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("dma-harness-key-\(getpid())-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // File names go into the facts, contents into the digests, so moving the checkout rebuilds nothing.
        let material = (facts + files.map(\.lastPathComponent)).joined(separator: "\n") + "\n"
        try material.write(to: scratch, atomically: true, encoding: .utf8)
        let outcome = try Subprocess.checked(
            "bash", ["-c", "set -o pipefail; sha256sum \"$@\" | cut -d' ' -f1 | sha256sum", "input-key",
                   scratch.path] + files.map(\.path))
        return String(outcome.standardOutput.prefix { $0 != " " })
    }
}
