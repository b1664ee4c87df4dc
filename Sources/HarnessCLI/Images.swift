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

            @Option(name: .long, parsing: .upToNextOption, help: "Architectures: \(DataNames.arches), or all.")
            var arch: [String] = ["all"]

            @Option(name: .long, parsing: .upToNextOption, help: "Debian kernel lines: \(DataNames.suites), or all.")
            var debian: [String] = []

            @Flag(name: .long, help: "Refresh the package lists and re-resolve the current kernel ABI.")
            var refresh = false

            @OptionGroup var cache: CacheOptions

            func run() throws {
                try Harness.guarded {
                    let layout = try ProjectLayout.locate()
                    let catalog = try ArchCatalog(layout: layout)
                    let profiles = try catalog.resolve(arch)
                    let provisioner = ImageProvisioner(cacheRoot: cache.cacheRoot, layout: layout, logger: cache.makeLogger())
                    for suite in try catalog.suites.resolve(debian) {
                        for profile in profiles {
                            if let why = catalog.unavailability(arch: profile.name, suite: suite.name) {
                                print("\(profile.name) \(suite.name): none (\(why))")
                                continue
                            }
                            let start = Date()
                            let (image, cached) = try provisioner.provision(arch: profile.name, suite: suite, refresh: refresh)
                            print("\(profile.name) \(suite.name): \(image.kernelRelease) \(cached ? "cached" : "fetched") in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
                        }
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
                    for suite in catalog.suites.suites {
                        for name in catalog.names {
                            if catalog.unavailability(arch: name, suite: suite.name) != nil { continue }
                            guard let image = provisioner.cachedImage(arch: name, suite: suite) else {
                                print("\(name) \(suite.name): not cached (harness images fetch --arch \(name) --debian \(suite.name))")
                                continue
                            }
                            var line = "\(name) \(suite.name): \(image.kernelRelease)"
                            if case .debian(let packages, _) = image.provenance {
                                line += " " + packages.map { "\($0.name)=\($0.version)" }.joined(separator: " ")
                            }
                            print(line)
                        }
                    }
                    return .passed
                }
            }
        }
    }
}
