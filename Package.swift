// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dma-harness",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "harness", targets: ["HarnessCLI"]),
        .library(name: "HarnessCore", targets: ["HarnessCore"]),
        .library(name: "Libvirt", targets: ["Libvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libvirt's C headers, nothing else: the only place raw C declarations enter the build.
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        // The few Linux calls Swift cannot import (variadic prctl, posix_spawn with chdir, pipe2).
        .target(name: "CSystemShims"),
        // Swift wrapper over libvirt: connection, domain, console stream, event loop. No C type in its API.
        .target(
            name: "Libvirt",
            dependencies: ["CLibvirt"]
        ),
        // The pipeline: plan, provision, build, boot, collect, report.
        .target(
            name: "HarnessCore",
            dependencies: [
                "Libvirt",
                "CSystemShims",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "HarnessCLI",
            dependencies: [
                "HarnessCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What more than one test target needs (not shipped in any product).
        .target(
            name: "TestSupport",
            dependencies: ["HarnessCore"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "LibvirtTests",
            dependencies: ["Libvirt"]
        ),
        .testTarget(
            name: "HarnessCoreTests",
            dependencies: ["HarnessCore", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        // Boots real guests: run serially, after the unit tests.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["HarnessCore", "Libvirt", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
