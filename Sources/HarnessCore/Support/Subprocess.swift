import CSystemShims
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
///
/// Children are started with `posix_spawn` and waited for with `waitpid` on their own pid, not with
/// Foundation's `Process`: under load its exit monitoring was seen to miss a child's exit and wait
/// forever beside a zombie. The child starts with default signal dispositions and an empty mask, so
/// a Ctrl-C reaches it; the harness's own SIGINT handling must not be inherited.
public enum Subprocess {
    /// Runs `executable` (looked up on PATH when it has no slash) with `arguments` and waits for it.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: URL? = nil,
        environment: [String: String]? = nil,
        onErrorLine: (@Sendable (String) -> Void)? = nil
    ) throws -> ProcessOutcome {
        guard let path = resolve(executable) else {
            throw HarnessError.infrastructure("\(executable) not found on PATH")
        }
        let commandLine = ([executable] + arguments).joined(separator: " ")
        let variables = environment.map { ProcessInfo.processInfo.environment.merging($0) { _, new in new } }
            ?? ProcessInfo.processInfo.environment
        let output = try PipeEnds()
        let errors = try PipeEnds()
        let pid: pid_t
        do {
            defer {
                close(output.write)
                close(errors.write)
            }
            pid = try spawn(path: path, arguments: [executable] + arguments,
                            environment: variables.map { "\($0.key)=\($0.value)" },
                            workingDirectory: workingDirectory, standardOutput: output.write, standardError: errors.write)
        } catch {
            close(output.read)
            close(errors.read)
            throw error
        }
        RunningChildren.shared.add(pid)
        defer { RunningChildren.shared.remove(pid) }
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let errorOutput = DataBox()
        let drained = DispatchGroup()
        drained.enter()
        DispatchQueue.global().async {
            errorOutput.data = readToEnd(errors.read, onLine: onErrorLine)
            drained.leave()
        }
        let out = readToEnd(output.read)
        drained.wait()
        return ProcessOutcome(
            commandLine: commandLine,
            exitCode: waitForExit(pid),
            standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: errorOutput.data ?? Data(), as: UTF8.self)
        )
    }

    /// Sends SIGTERM to every child this process is waiting for (the run was cancelled).
    public static func terminateRunningChildren() {
        for pid in RunningChildren.shared.all { kill(pid, SIGTERM) }
    }

    private static func spawn(path: String, arguments: [String], environment: [String], workingDirectory: URL?,
                              standardOutput: Int32, standardError: Int32) throws -> pid_t {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result: Int32 = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                if let directory = workingDirectory?.path {
                    return harness_spawn(&pid, path, argvBuffer.baseAddress, envpBuffer.baseAddress, directory,
                                         standardOutput, standardError)
                }
                return harness_spawn(&pid, path, argvBuffer.baseAddress, envpBuffer.baseAddress, nil,
                                     standardOutput, standardError)
            }
        }
        guard result == 0 else {
            throw HarnessError.infrastructure("cannot start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Reads until end of file; `onLine`, when given, sees each complete line as it arrives (a
    /// long step's progress), and the whole text is returned as well.
    private static func readToEnd(_ descriptor: Int32, onLine: ((String) -> Void)? = nil) -> Data {
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var reported = 0
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
                guard let onLine else { continue }
                while let newline = data[reported...].firstIndex(of: 0x0a) {
                    onLine(String(decoding: data[reported..<newline], as: UTF8.self))
                    reported = newline + 1
                }
            } else if count == 0 || errno != EINTR {
                return data
            }
        }
    }

    /// The exit code, or 128 + the signal number for a child killed by a signal (as a shell says it).
    private static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return 127 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
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

/// Both ends of a pipe, close-on-exec (the child gets its end through the spawn's dup2).
private struct PipeEnds {
    var read: Int32
    var write: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard harness_pipe_cloexec(&ends) == 0 else {
            throw HarnessError.infrastructure("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        read = ends[0]
        write = ends[1]
    }
}

/// The children `Subprocess.run` is waiting for, so a cancelled run can stop them.
private final class RunningChildren: @unchecked Sendable {
    static let shared = RunningChildren()
    private let lock = NSLock()
    private var pids: Set<pid_t> = []

    func add(_ pid: pid_t) { _ = lock.withLock { pids.insert(pid) } }
    func remove(_ pid: pid_t) { _ = lock.withLock { pids.remove(pid) } }
    var all: Set<pid_t> { lock.withLock { pids } }
}
