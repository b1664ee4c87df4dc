import Foundation

/// Which Debian packages make a guest for one arch: read from `images/recipes/<arch>.json`.
/// Meta package names only; the ABI they point to is resolved at fetch time, never hard-coded.
public struct ImageRecipe: Codable, Sendable {
    /// The harness arch name this recipe serves.
    public var arch: String
    /// Debian's name for the architecture (`armhf`, `arm64`, `amd64`).
    public var debianArch: String
    /// Meta package whose dependency is the current kernel image (`linux-image-armmp`).
    public var kernelImage: String
    /// Meta package whose dependency is the matching headers (`linux-headers-armmp`).
    public var kernelHeaders: String
    /// The statically linked busybox package that becomes the guest's user space.
    public var busybox: String

    /// Loads the recipe for `arch` from the layout's `images/recipes/`.
    public static func load(arch: String, layout: ProjectLayout) throws -> ImageRecipe {
        let file = layout.recipesDirectory.appendingPathComponent("\(arch).json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw HarnessError.usage("no image recipe for arch '\(arch)': expected \(file.path)")
        }
        do {
            return try JSONDecoder().decode(ImageRecipe.self, from: data)
        } catch {
            throw HarnessError.usage("image recipe \(file.path) is not valid: \(error)")
        }
    }
}
