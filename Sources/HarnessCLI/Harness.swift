import ArgumentParser
import Foundation
import HarnessCore
import Logging

/// `harness`: does the Linux DMA-mapping API keep its promise on every architecture?
@main
struct Harness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness",
        abstract: "Boot QEMU guests through libvirt and check dma_alloc_attrs() against its documented contract.",
        discussion: """
        Exit codes: 0 passed; 1 test failures, violations, crashes or hangs; 2 usage or input error; \
        3 infrastructure error (missing package, libvirt, download, build); 4 passed, with de-facto findings only (such as memory not zeroed); 130 interrupted.
        """,
        version: HarnessVersion.string,
        subcommands: [Run.self, Images.self, Doctor.self, Report.self, Compare.self, Matrix.self, Merge.self, Parse.self]
    )

    /// Parses and runs, with ArgumentParser's usage errors (its exit code 64) mapped to the
    /// documented usage exit code, 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }

    /// Runs a subcommand body, turning a HarnessError into one line on stderr and its exit code.
    static func guarded(_ body: () throws -> ExitStatus) throws {
        let status: ExitStatus
        do {
            status = try body()
        } catch let error as HarnessError {
            FileHandle.standardError.write(Data("harness: \(error.message)\n".utf8))
            status = error.status
        }
        if status != .passed { throw ExitCode(status.rawValue) }
    }
}

/// Options every subcommand that touches the cache shares.
struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "Cache for images, builds and libvirt's state (default: $XDG_CACHE_HOME/dma-harness).")
    var cacheDirectory: String?

    @Flag(name: .shortAndLong, help: "Log what each stage does.")
    var verbose = false

    var cacheRoot: URL {
        cacheDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? RunOptions.defaultCacheRoot
    }

    func makeLogger() -> Logger {
        var logger = Logger(label: "dma-harness") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// The names help texts list, read from the project's data (profiles and suites), so a new
/// architecture or kernel line shows up in `--help` without a code change.
enum DataNames {
    private static let catalog = (try? ProjectLayout.locate()).flatMap { try? ArchCatalog(layout: $0) }

    /// `a, b, c`, or a pointer to the data when the checkout cannot be found.
    static var arches: String { catalog?.names.joined(separator: ", ") ?? "the names in images/profiles" }

    /// The Debian suites, the default first.
    static var suites: String {
        guard let suites = catalog?.suites else { return "the names in images/suites.json" }
        return suites.names.joined(separator: ", ") + " (default \(suites.default))"
    }
}
