import Foundation

/// The outcome of a child process. A non-zero exit is a result to report, not a thrown error.
public struct ProcessOutcome: Sendable {
    public var commandLine: String
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String

    public var succeeded: Bool { exitCode == 0 }

    /// The last lines of stderr (or stdout when stderr is empty), for one-line error messages.
    public func tail(lines: Int = 3) -> String {
        let text = standardError.isEmpty ? standardOutput : standardError
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }
}

/// Runs host tools (apt-get, dpkg, make, sha256sum) and returns their output.
public enum Subprocess {
    /// Runs `executable` (looked up on PATH when it has no slash) with `arguments` and waits for it.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: URL? = nil,
        environment: [String: String]? = nil
    ) throws -> ProcessOutcome {
        guard let path = resolve(executable) else {
            throw HarnessError.infrastructure("\(executable) not found on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let errorOutput = DataBox()
        let drained = DispatchGroup()
        drained.enter()
        DispatchQueue.global().async {
            errorOutput.data = errPipe.fileHandleForReading.readDataToEndOfFile()
            drained.leave()
        }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        return ProcessOutcome(
            commandLine: ([executable] + arguments).joined(separator: " "),
            exitCode: process.terminationStatus,
            standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: errorOutput.data ?? Data(), as: UTF8.self)
        )
    }

    /// Runs a command that must succeed; a failure becomes an infrastructure error naming the command.
    @discardableResult
    public static func checked(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: URL? = nil,
        environment: [String: String]? = nil
    ) throws -> ProcessOutcome {
        let outcome = try run(executable, arguments, workingDirectory: workingDirectory, environment: environment)
        guard outcome.succeeded else {
            throw HarnessError.infrastructure(
                "`\(outcome.commandLine)` exited \(outcome.exitCode): \(outcome.tail())")
        }
        return outcome
    }

    /// The absolute path of `name` on PATH, or nil.
    public static func resolve(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Data?
    var data: Data? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
