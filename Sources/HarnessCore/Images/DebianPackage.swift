import Foundation

/// One Debian package as the archive's index describes it.
public struct DebianPackage: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var architecture: String
    /// The `.deb`'s file name in the pool.
    public var fileName: String
    /// Size in bytes, from the index.
    public var size: Int
    /// SHA-256 of the `.deb`, from the archive's signed index.
    public var sha256: String
}
