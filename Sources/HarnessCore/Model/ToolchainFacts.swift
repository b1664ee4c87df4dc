import Foundation

/// How a target's driver was built, for the report.
public struct ToolchainFacts: Codable, Sendable, Equatable {
    public enum Place: String, Codable, Sendable {
        case host
        case buildRoot = "build-root"
    }

    public var place: Place
    /// The Debian suite of the kernel (and of the build root); nil for a user's kernel.
    public var suite: String?
    public var compiler: String
    /// The first line of `compiler --version`.
    public var compilerVersion: String
    /// The kernel's `CONFIG_CC_VERSION_TEXT`, when its config is known.
    public var kernelCompiler: String?
    /// Whether the two texts are the same build of the compiler (the generation always is).
    public var matchesKernel: Bool?
    public var buildRoot: String?
    public var buildRootPackages: [String]?
}
