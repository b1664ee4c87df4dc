import Foundation
@testable import HarnessCore

/// What every fuzz target shares: the input as the harness reads it, a generator seeded by the
/// input (so a crash reproduces from its file alone), files for loaders that take a path, and the
/// recorded fixtures.
enum FuzzInput {
    /// The bytes libFuzzer passes, copied (libFuzzer may pass a null pointer for an empty input).
    static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// The bytes as text, decoded the way the harness decodes a console or a report (invalid
    /// UTF-8 becomes U+FFFD).
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// FNV-1a of the input: the seed of anything random a target does with it.
    static func seed(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// SplitMix64: small, fast, and the same on every run for the same seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A folder of this process's own (under `$TMPDIR`, which fuzz.sh points at its work folder),
/// for the loaders and renderers that read a path.
enum Scratch {
    static let folder: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dma-harness-fuzz-\(getpid())")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Writes `bytes` to `name` in the folder, replacing what was there. A plain write: `Data.write`
    /// fsyncs every file, which was a tenth of an empty input's time, and a scratch file needs no
    /// durability.
    @discardableResult
    static func write(_ bytes: some Sequence<UInt8>, to name: String) -> URL {
        let file = folder.appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let contents = Array(bytes)
        guard let stream = fopen(file.path, "wb") else { fatalError("cannot write \(file.path): \(errno)") }
        let written = contents.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, stream) }
        guard fclose(stream) == 0, written == contents.count else { fatalError("cannot write \(file.path)") }
        return file
    }
}

/// The recorded consoles and reports of Tests/HarnessCoreTests/Fixtures.
enum FuzzFixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../HarnessCoreTests/Fixtures").standardizedFileURL

    /// Run 3: arm64-direct, failed, with `dma_bench` timings.
    static let failedRun = folder.appendingPathComponent("reports/run3-arm64-init-on-alloc/report.json")

    /// Run 3 as parsed consoles and loaded reports are compared with (`harness compare`): its
    /// attributes and `dma_bench` timings whole, the first tests of every other suite.
    static let comparedRun: RunReport = {
        var report = try! RunReport.load(from: failedRun)
        for index in report.targets[0].suites.indices where report.targets[0].suites[index].name != "dma_bench" {
            report.targets[0].suites[index].tests = Array(report.targets[0].suites[index].tests.prefix(4))
        }
        return report
    }()

    static func data(_ path: String) -> Data {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) else {
            fatalError("fuzz fixture \(path) is missing under \(folder.path)")
        }
        return data
    }
}

/// A broken invariant is a crash, so that libFuzzer keeps the input that broke it.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}
