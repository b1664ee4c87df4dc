import Foundation
import Logging

/// What the guest driver and helper of one target are built with: the compiler generation the
/// kernel itself was built with (its `CONFIG_CC_VERSION_TEXT`), on the host when the kernel is of
/// the host's own Debian suite (or is the user's own build), else inside a build root of the
/// kernel's suite.
public struct Toolchain: Sendable {
    public enum Place: Sendable {
        case host
        case root(BuildRoot)
    }

    public var place: Place
    /// kbuild's `CROSS_COMPILE=`: the guest's GNU triplet and a dash, empty on a native build.
    public var crossCompile: String
    /// The C compiler, e.g. `<triplet>-gcc-14`; the helper is built with it too.
    public var compiler: String
    public var facts: ToolchainFacts

    /// Runs a tool of this toolchain: directly, or inside the build root with the cache (where
    /// headers, kbuild tools and build folders live) bound at its own path.
    func run(_ executable: String, _ arguments: [String], cacheRoot: URL,
             workingDirectory: URL? = nil) throws -> ProcessOutcome {
        switch place {
        case .host:
            return try Subprocess.run(executable, arguments, workingDirectory: workingDirectory)
        case .root(let root):
            return try root.run(executable, arguments, binding: [cacheRoot], workingDirectory: workingDirectory)
        }
    }

    /// The toolchain for `image`. `suite` is the Debian suite the kernel came from; nil for a
    /// user's own kernel, which is built with the host's compilers as the user built it.
    public static func select(for image: GuestImage, profile: ArchProfile, recipe: ImageRecipe,
                              suite: DebianSuite?, cacheRoot: URL, logger: Logger,
                              progress: @escaping @Sendable (String) -> Void) throws -> Toolchain {
        let kernelCompiler = image.kernelConfigValues()["CONFIG_CC_VERSION_TEXT"]
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        let major = kernelCompiler.flatMap(gccMajor)
        if let kernelCompiler, kernelCompiler.contains("clang") {
            throw HarnessError.usage("the kernel was built with clang (\(kernelCompiler)); the harness builds its driver with gcc only")
        }
        let (crossCompile, compiler, compilerPackage, libcPackage) = names(profile: profile, recipe: recipe, gccMajor: major)

        let hostSuite = SuiteCatalog.hostSuiteName()
        let place: Place
        if let suite, suite.name != hostSuite {
            let root = try BuildRoot.ensure(
                suite: suite, packages: ["make", compilerPackage, libcPackage] + (image.kbuildDependencies ?? []),
                cacheRoot: cacheRoot, verify: compiler, logger: logger, progress: progress)
            place = .root(root)
        } else {
            guard Subprocess.resolve(compiler) != nil else {
                let named = kernelCompiler.map { ", the compiler the kernel names (\($0))" } ?? ""
                throw HarnessError.infrastructure("\(compiler) not found\(named): apt-get install \(compilerPackage) \(libcPackage)")
            }
            place = .host
        }
        var root: BuildRoot? { if case .root(let root) = place { root } else { nil } }
        var toolchain = Toolchain(
            place: place, crossCompile: crossCompile, compiler: compiler,
            facts: ToolchainFacts(place: root == nil ? .host : .buildRoot, suite: suite?.name, compiler: compiler,
                                  compilerVersion: "", kernelCompiler: kernelCompiler, matchesKernel: nil,
                                  buildRoot: root?.path.path, buildRootPackages: root?.manifest.packages))
        let version = try toolchain.run(compiler, ["--version"], cacheRoot: cacheRoot)
        let compilerVersion = version.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
        toolchain.facts.compilerVersion = compilerVersion
        // The names differ between a native build (`gcc-14`) and a cross one; the build does not.
        let build = { (text: String) in text.split(separator: " ").dropFirst().joined(separator: " ") }
        toolchain.facts.matchesKernel = kernelCompiler.map { build($0) == build(compilerVersion) }
        if toolchain.facts.matchesKernel == false {
            logger.warning("\(compiler) is '\(compilerVersion)', the kernel was built with '\(kernelCompiler ?? "")'; same generation, another build")
        }
        return toolchain
    }

    /// Debian's names for a guest's compiler: kbuild's `CROSS_COMPILE=` (empty when the guest is
    /// the host's own arch), the compiler (`<triplet>-gcc-N`, or `gcc` with no generation named),
    /// and the packages of it and of its static libc. One place for `harness doctor` and the build.
    public static func names(profile: ArchProfile, recipe: ImageRecipe, gccMajor major: String?)
        -> (crossCompile: String, compiler: String, compilerPackage: String, libcPackage: String) {
        let native = recipe.debianArch == HostPlatform.debianArch
        let crossCompile = native ? "" : profile.gnuTriplet + "-"
        let generation = major.map { "-\($0)" } ?? ""
        let packageTriplet = profile.gnuTriplet.replacingOccurrences(of: "_", with: "-")
        return (crossCompile, crossCompile + "gcc" + generation,
                "gcc" + generation + (native ? "" : "-\(packageTriplet)"),
                native ? "libc6-dev" : "libc6-dev-\(recipe.debianArch)-cross")
    }

    /// `14` from `<triplet>-gcc-14 (Debian 14.2.0-19) 14.2.0` or `gcc-14 (...)`; nil when the
    /// compiler's name carries no version (`gcc (GCC) 12.2.0`).
    static func gccMajor(_ versionText: String) -> String? {
        let name = versionText.split(separator: " ").first.map(String.init) ?? ""
        guard let range = name.range(of: "gcc-", options: .backwards) else { return nil }
        let major = name[range.upperBound...]
        return !major.isEmpty && major.allSatisfy(\.isNumber) ? String(major) : nil
    }
}

/// Facts about the machine the harness runs on.
public enum HostPlatform {
    /// dpkg's name for the host architecture (what `dpkg --print-architecture` says).
    public static let debianArch: String = {
        let outcome = try? Subprocess.run("dpkg", ["--print-architecture"])
        return outcome?.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }()
}
