import Foundation

/// The paths a run is given, checked before anything is provisioned or booted. Most characters are
/// safe everywhere a path goes (domain XML and reports escape them, the libvirt URI percent-encodes
/// them); what cannot be made safe is refused here, with one line naming the option.
///
/// - A control character (a newline, a tab, an escape) in any path: it would split the harness's
///   one-line messages and the kbuild and libvirt log settings that name the path.
/// - In the cache folder and `--kbuild`, anything but letters, digits and `. _ + - @ /`: kbuild
///   builds the guest driver there, and its makefiles split paths at spaces and colons and expand
///   `$`, and paste them unquoted into shell commands (so `'`, `"`, `&`, `;`, `(`... break them);
///   libvirt's `LIBVIRT_LOG_OUTPUTS` (a file under the cache) splits at spaces and colons too.
extension RunOptions {
    /// Throws a usage error for the first path that cannot be used.
    public func checkPaths() throws {
        var paths: [(option: String, path: String, kbuildSees: Bool)] = [
            ("--out", outDirectory.path, false), ("--cache-dir", cacheRoot.path, true),
        ]
        if case .user(let kernelFile, let kbuildDirectory) = kernel {
            paths += [("--kernel", kernelFile, false), ("--kbuild", kbuildDirectory, true)]
        }
        for (option, path, kbuildSees) in paths {
            if let problem = Self.pathProblem(path, kbuildSees: kbuildSees) {
                throw HarnessError.usage("\(option) \(path.debugDescription): \(problem)")
            }
        }
    }

    /// Why `path` cannot be used, or nil.
    static func pathProblem(_ path: String, kbuildSees: Bool) -> String? {
        if path.unicodeScalars.contains(where: isControl) {
            return "a path with a newline or another control character cannot be passed on safely; choose another"
        }
        guard kbuildSees, let bad = path.unicodeScalars.first(where: { !isKbuildSafe($0) }) else { return nil }
        let shown = bad == " " ? "a space" : "'\(bad)'"
        return "kbuild cannot build the guest driver under a path with \(shown); use one of letters, digits and . _ + - @ only"
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// ASCII letters, digits and `. _ + - @ /`; any non-ASCII character but a space.
    static func isKbuildSafe(_ scalar: Unicode.Scalar) -> Bool {
        if !scalar.isASCII { return !scalar.properties.isWhitespace }
        return CharacterSet.alphanumerics.contains(scalar) || "._+-@/".unicodeScalars.contains(scalar)
    }
}
