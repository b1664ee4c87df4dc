import Foundation

/// Everything a target boots and builds against: one kernel, its headers, and busybox.
public struct GuestImage: Codable, Sendable {
    /// Where the kernel came from, for the report.
    public enum Provenance: Codable, Sendable {
        /// Debian packages of one suite, with version and sha256 as the archive's index gave them.
        /// `suite` is absent in reports written before kernel lines other than bookworm existed.
        case debian(packages: [DebianPackage], suite: String? = nil)
        /// A kernel the user built, with the image's sha256.
        case user(kernelFile: String, sha256: String, kbuildDirectory: String)
    }

    public var arch: String
    /// `uname -r` of the kernel (`6.1.0-50-<flavour>`).
    public var kernelRelease: String
    public var kernelImage: String
    /// The kernel's `.config`, when known.
    public var kernelConfig: String?
    /// A kbuild tree that `make M=... modules` works in.
    public var kbuildDirectory: String
    /// A statically linked busybox for the guest's architecture.
    public var busybox: String
    public var provenance: Provenance
    /// The packages the kernel's kbuild host tools need to run (their `Depends`): a build root
    /// of another suite gets them.
    public var kbuildDependencies: [String]? = nil

    /// The upstream version the kernel was built from (`6.12.117`): the image package's version up
    /// to its Debian revision, or a user tree's `include/config/kernel.release`.
    public var upstreamVersion: String? {
        switch provenance {
        case .debian(let packages, _):
            guard let version = packages.first?.version else { return nil }
            let upstream = version.split(separator: "-").first.map(String.init) ?? version
            return upstream.split(separator: "+").first.map(String.init)
        case .user(_, _, let kbuild):
            let file = URL(fileURLWithPath: kbuild).appendingPathComponent("include/config/kernel.release")
            return (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The kernel config as a dictionary (`CONFIG_DMA_CMA` -> `y`), empty when unknown.
    public func kernelConfigValues() -> [String: String] {
        guard let kernelConfig, let text = try? String(contentsOfFile: kernelConfig, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}
