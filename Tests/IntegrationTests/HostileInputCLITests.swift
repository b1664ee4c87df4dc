import Foundation
import Testing
@testable import HarnessCore
import TestSupport

extension Integration {
/// Hostile input given to the built `harness` as a user would give it. None of these boots a
/// guest: each is refused or parsed before anything is provisioned.
@Suite("Hostile input, end to end (no guest booted)")
struct HostileInputCLITests {
    static let fixtures = HarnessProcess.packageRoot.appendingPathComponent("Tests/HarnessCoreTests/Fixtures/reports")

    /// The lines the CLI wrote on stderr.
    func errorLines(_ result: HarnessProcess.Result) -> [Substring] {
        result.standardError.split(separator: "\n")
    }

    /// The recorded run2 report with its schemaVersion replaced, in a folder of its own.
    func report(schemaVersion: String, in folder: URL) throws -> URL {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("run2-arm64-cma0/report.json"), encoding: .utf8)
        let future = text.replacingOccurrences(of: "\"schemaVersion\" : \"1.0\"", with: "\"schemaVersion\" : \"\(schemaVersion)\"")
        #expect(future != text)
        let file = folder.appendingPathComponent("report-\(schemaVersion).json")
        try future.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("a report of a future major schema version: one line from report, compare and merge, saying what to do",
          arguments: ["3.0", "9.1"])
    func futureSchema(version: String) throws {
        let folder = HarnessProcess.scratchFolder("future")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let future = try report(schemaVersion: version, in: folder)
        let current = Self.fixtures.appendingPathComponent("run2-arm64-cma0/report.json")
        for arguments in [["report", future.path, "--format", "html"], ["compare", current.path, future.path],
                          ["merge", folder.appendingPathComponent("merged.json").path, current.path, future.path]] {
            let result = try HarnessProcess.run(arguments)
            #expect(result.exitCode == ExitStatus.usage.rawValue, "\(arguments[0])")
            let lines = errorLines(result)
            #expect(lines.count == 1, "\(arguments[0]): \(result.standardError)")
            let line = String(lines.first ?? "")
            #expect(line.hasPrefix("harness: \(future.path) has schema version \(version);"), "\(line)")
            #expect(line.contains("reads schema 1.x") && line.contains("upgrade dma-harness"), "\(line)")
            #expect(result.standardOutput.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("merged.json").path))
    }

    @Test("harness parse of a 1 GiB console without a newline stays under 256 MiB resident and reports the cut")
    func parseGibibyteConsole() throws {
        let folder = HarnessProcess.scratchFolder("gib")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let console = folder.appendingPathComponent("console.log")
        FileManager.default.createFile(atPath: console.path, contents: Data("KTAP version 1\n1..1\n# flood: ".utf8))
        let handle = try FileHandle(forWritingTo: console)
        try handle.seekToEnd()
        // 32 MiB of real output, then a sparse hole to 1 GiB: still no newline anywhere.
        for _ in 0..<8 { try handle.write(contentsOf: Data(repeating: UInt8(ascii: "A"), count: 4 << 20)) }
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()

        let json = folder.appendingPathComponent("parsed.json")
        let run = try ChildProcess.run(HarnessProcess.executable.path, ["parse", console.path, "--json"], standardOutput: json)
        print("harness parse of a 1 GiB console: max RSS \(run.maxResidentBytes >> 20) MiB")
        #expect(run.exitCode == ExitStatus.failures.rawValue, "an unfinished, cut console is no pass")
        #expect(run.maxResidentBytes < 256 << 20, "max RSS \(run.maxResidentBytes >> 20) MiB")
        let report = try RunReport.load(from: json)
        let cut = try #require(report.targets.first?.consoleCut)
        #expect(cut.totalBytes == 1 << 30 && cut.readBytes == ConsoleLimits.standard.maxBytes && cut.cutLines == 1)
    }

    @Test("a newline in --out or --cache-dir is refused with one line naming it, before anything is created",
          arguments: ["--out", "--cache-dir"])
    func newlineInPath(option: String) throws {
        let hostile = HarnessProcess.scratchFolder("nl").path + "\nsecond"
        let out = option == "--out" ? hostile : HarnessProcess.scratchFolder("out").path
        let arguments = ["run", "--arch", "arm", "--out", out] + (option == "--cache-dir" ? ["--cache-dir", hostile] : [])
        let result = try HarnessProcess.run(arguments)
        #expect(result.exitCode == ExitStatus.usage.rawValue)
        let lines = errorLines(result)
        #expect(lines.count == 1 && lines.first?.hasPrefix("harness: \(option) ") == true, "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: hostile) && !FileManager.default.fileExists(atPath: out))
    }
}
}

/// A child process and its own peak resident set. Linux starts an exec'd program's `maxrss` at
/// the spawning process's high-water mark (the mm it replaced), so a child spawned straight from
/// this test process, large after hundreds of tests, would report this process's peak. A small
/// python3 in between spawns the program and reports its children's maxrss instead.
enum ChildProcess {
    struct Outcome {
        var exitCode: Int32
        /// The child's peak resident set (Linux reports ru_maxrss in KiB).
        var maxResidentBytes: Int
    }

    static let measure = """
    import resource, subprocess, sys
    result = subprocess.run(sys.argv[2:], stderr=subprocess.DEVNULL)
    open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    sys.exit(result.returncode if result.returncode >= 0 else 128 - result.returncode)
    """

    static func run(_ executable: String, _ arguments: [String], standardOutput: URL) throws -> Outcome {
        let rssFile = standardOutput.appendingPathExtension("maxrss")
        defer { try? FileManager.default.removeItem(at: rssFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let python = "/usr/bin/python3"
        let argv = ([python, "-c", measure, rssFile.path, executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, python, &actions, nil, argv, environ)
        guard spawned == 0 else { throw HostileCLIError("posix_spawn \(python): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw HostileCLIError("waitpid: \(String(cString: strerror(errno)))") }
        }
        let exited = status & 0x7f == 0
        guard let kibibytes = (try? String(contentsOf: rssFile, encoding: .utf8)).flatMap({ Int($0) }) else {
            throw HostileCLIError("python3 did not report the child's maxrss (is python3 installed?)")
        }
        return Outcome(exitCode: exited ? (status >> 8) & 0xff : -1, maxResidentBytes: kibibytes * 1024)
    }
}

struct HostileCLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
