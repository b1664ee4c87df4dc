import ArgumentParser
import Foundation
import HarnessCore

extension Harness {
    struct Images: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch and list the cached Debian guest images.",
            subcommands: [Fetch.self, List.self])

        struct Fetch: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Download, verify and extract guest images.")

            @Option(name: .long, parsing: .upToNextOption, help: "Architectures: arm, arm64, x86_64, or all.")
            var arch: [String] = ["all"]

            @Flag(name: .long, help: "Refresh the package lists and re-resolve the current kernel ABI.")
            var refresh = false

            @OptionGroup var cache: CacheOptions

            func run() throws {
                try Harness.guarded {
                    let layout = try ProjectLayout.locate()
                    let profiles = try ArchCatalog(layout: layout).resolve(arch)
                    let provisioner = ImageProvisioner(cacheRoot: cache.cacheRoot, layout: layout, logger: cache.makeLogger())
                    for profile in profiles {
                        let start = Date()
                        let (image, cached) = try provisioner.provision(arch: profile.name, refresh: refresh)
                        print("\(profile.name): \(image.kernelRelease) \(cached ? "cached" : "fetched") in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
                    }
                    return .passed
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the guest images in the cache.")

            @OptionGroup var cache: CacheOptions

            func run() throws {
                try Harness.guarded {
                    let layout = try ProjectLayout.locate()
                    let catalog = try ArchCatalog(layout: layout)
                    let provisioner = ImageProvisioner(cacheRoot: cache.cacheRoot, layout: layout, logger: cache.makeLogger())
                    for name in catalog.names {
                        guard let image = provisioner.cachedImage(arch: name) else {
                            print("\(name): not cached (harness images fetch --arch \(name))")
                            continue
                        }
                        var line = "\(name): \(image.kernelRelease)"
                        if case .debian(let packages) = image.provenance {
                            line += " " + packages.map { "\($0.name)=\($0.version)" }.joined(separator: " ")
                        }
                        print(line)
                    }
                    return .passed
                }
            }
        }
    }
}
