import Foundation
@testable import HarnessCore

/// The offline collection path on any console, as `harness parse` takes it: `ConsoleReplay.report`
/// (scanner, parser, judge, conformance), the table it prints and the report.json it writes with
/// `--json`, which `RunReport.load` (every command that reads a report) must accept, with the same
/// results; and the collect stage of `harness run`, `ResultCollector.collect`, with a QEMU log
/// (the input's bytes after its first NUL), judged for every way a boot can end. What the other
/// commands do with a loaded report is ReportLoaderFuzz's part.
@_cdecl("LLVMFuzzerTestOneInput")
public func consoleReplayFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    let console = FuzzInput.text(bytes)

    let report = ConsoleReplay.report(console: console, consolePath: "console.log", arch: "arm64", variant: nil, catalog: nil)
    _ = SummaryTable.render(report)
    let file = Scratch.write(try! report.encodedJSON(), to: "parse/report.json")
    do {
        let loaded = try RunReport.load(from: file)
        require(loaded.targets.map(\.summary) == report.targets.map(\.summary)
                    && loaded.targets.map(\.suites) == report.targets.map(\.suites), "the results changed when read back")
    } catch {
        fatalError("what harness parse --json wrote cannot be read back: \(error)")
    }

    let cut = bytes.firstIndex(of: 0) ?? bytes.endIndex
    let qemuLog = cut < bytes.endIndex ? FuzzInput.text(Array(bytes[(cut + 1)...])) : nil
    let collected = ResultCollector.collect(console: FuzzInput.text(Array(bytes[..<cut])), qemuLog: qemuLog,
                                            ending: .poweredOff, detail: "powered off")
    let endings: [BootEnding] = [.poweredOff, .panicked, .timedOut, .interrupted, .stoppedUnexpectedly]
    let lines = ConsoleTranscript(text: console).lines
    for ending in endings {
        let (status, reason) = ResultCollector.judge(document: collected.document, findings: collected.findings,
                                                     consoleLines: lines,
                                                     ending: ending, detail: "fuzz", consoleCut: collected.consoleCut)
        require(status == .passed || reason != nil, "target \(status) without a reason")
    }
    return 0
}
