import Foundation

/// Which Debian packages make a guest for one arch: read from `images/recipes/<arch>.json`.
/// Meta package names only; the ABI they point to is resolved at fetch time, never hard-coded.
public struct ImageRecipe: Codable, Sendable {
    /// The harness arch name this recipe serves.
    public var arch: String
    /// Debian's name for the architecture (dpkg's architecture name).
    public var debianArch: String
    /// Meta package whose dependency is the current kernel image (`linux-image-<flavour>`).
    public var kernelImage: String
    /// Meta package whose dependency is the matching headers (`linux-headers-<flavour>`).
    public var kernelHeaders: String
    /// The statically linked busybox package that becomes the guest's user space.
    public var busybox: String
    /// Where the kernel packages put the boot image, `{release}` standing for the kernel release:
    /// the first that exists is used (Debian moved it from `boot/` to `usr/lib/modules/` in 7.x).
    public var kernelImagePaths: [String]
    /// Suites whose archive has no kernel for this architecture, each with the reason.
    public var unavailableIn: [String: String]?

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
