import Foundation
@testable import HarnessCore

/// Runs the built `harness` executable as a user would, and inspects what it leaves behind.
struct HarnessProcess {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The executable `swift test` built beside the tests (in whichever build folder they run from).
    static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("harness")
        let candidates = [besideTests] + [".build/debug/harness", ".build/release/harness"].map { packageRoot.appendingPathComponent($0) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    struct Result {
        var exitCode: Int32
        var standardOutput: String
        var standardError: String
        var pid: Int32
    }

    /// Runs `harness arguments...`; `onStart` gets the process while it runs (to send it a signal)
    /// and its standard error so far. Foundation starts the child in a process group of its own, so
    /// `kill(-pid, SIGINT)` reaches it and the tools it runs, as a terminal's Ctrl-C does. `wrapper`
    /// runs it under a command that execs it, such as `unshare --net` (no network).
    static func run(_ arguments: [String], environment: [String: String] = [:], wrapper: [String] = [],
                    onStart: ((Process, LiveText) -> Void)? = nil) throws -> Result {
        let process = Process()
        if let command = wrapper.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = wrapper.dropFirst() + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errText = LiveText()
        let drained = DispatchGroup()
        drained.enter()
        DispatchQueue.global().async {
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                errText.append(chunk)
            }
            drained.leave()
        }
        onStart?(process, errText)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        return Result(exitCode: process.terminationStatus,
                      standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: errText.text,
                      pid: process.processIdentifier)
    }

    /// A fresh output folder, removed by the caller.
    static func scratchFolder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("harness-it-\(name)-\(UUID().uuidString)")
    }

    static func report(in folder: URL) throws -> RunReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RunReport.self, from: Data(contentsOf: folder.appendingPathComponent("report.json")))
    }

    /// QEMU processes still running for domains that harness process `pid` created.
    static func leftoverQEMU(of pid: Int32) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { entry in
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return commandLine.contains("guest=\(HostConnection.domainPrefix)\(pid)-") ? commandLine : nil
        }
    }

    /// Temporary files the harness process `pid` made and did not remove.
    static func leftoverTemporaryFiles(of pid: Int32) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        return entries.filter { $0.hasPrefix("dma-harness-") && $0.contains("-\(pid)") }
    }

    /// A PATH holding every tool of /usr/bin except `hidden`, to play a host without that package.
    static func pathWithout(_ hidden: Set<String>) throws -> (path: String, folder: URL) {
        let folder = scratchFolder("path")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for tool in try FileManager.default.contentsOfDirectory(atPath: "/usr/bin") where !hidden.contains(tool) {
            try? FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent(tool).path,
                                                        withDestinationPath: "/usr/bin/\(tool)")
        }
        return ("\(folder.path):/usr/sbin", folder)
    }
}

/// A child's output as it arrives, readable while the child runs.
final class LiveText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until the text contains `needle` or `deadline` passes; true if it appeared.
    func wait(for needle: String, until deadline: Date, while running: () -> Bool = { true }) -> Bool {
        while Date() < deadline, running() {
            if text.contains(needle) { return true }
            usleep(20_000)
        }
        return text.contains(needle)
    }
}
