import Foundation
@testable import HarnessCore

/// The console scanners on any console: `ConsoleScanner` (offline: panics, oopses, BUGs, WARNINGs,
/// edu's clamps in a QEMU log) and the live watcher `ConsoleRecorder.append`, fed the same bytes
/// in several chunkings drawn from the input. However the stream is cut, the watcher must see the
/// same suite end and panic as a plain reading of the complete lines, count every byte, and write
/// the console to its file byte for byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func consoleScannerFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    let text = FuzzInput.text(bytes)

    let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
    for finding in ConsoleScanner.findings(in: text) {
        require(1 <= finding.line && finding.line <= lineCount, "finding at line \(finding.line) of \(lineCount)")
        require(finding.excerpt.first == finding.summary && finding.excerpt.count <= ConsoleScanner.excerptLength,
                "finding at line \(finding.line) has an excerpt that does not start with it")
    }
    for clamp in ConsoleScanner.eduClamps(inQEMULog: text) {
        require(clamp.kind == .eduClamp && clamp.summary.contains("EDU: clamping DMA"), "clamp \(clamp.summary)")
    }

    let expected = WatchedMoments(bytes)
    var generator = SeededGenerator(seed: FuzzInput.seed(bytes))
    // Whole, in pieces small enough to cut CR LF and UTF-8 sequences, and in stream-sized pieces.
    let chunkings: [[Int]] = [
        [bytes.count],
        chunks(of: bytes.count, upTo: 16, using: &generator),
        chunks(of: bytes.count, upTo: 1024, using: &generator),
    ]
    for (index, sizes) in chunkings.enumerated() {
        // One chunking also writes console.log, as the recorder does when QEMU does not.
        let file = index == 2 ? Scratch.folder.appendingPathComponent("console.log") : nil
        let recorder = try! ConsoleRecorder(file: file)
        var start = 0
        for size in sizes {
            recorder.append(Array(bytes[start..<(start + size)]))
            start += size
        }
        recorder.close()
        require(recorder.suiteEnded == expected.suiteEnd, "suite end \(recorder.suiteEnded) in chunks \(sizes.prefix(20))")
        require((recorder.panicTime != nil) == expected.panic, "panic \(recorder.panicTime != nil) in chunks \(sizes.prefix(20))")
        require(recorder.bytesWritten == bytes.count, "\(recorder.bytesWritten) of \(bytes.count) bytes counted")
        if let file {
            require(FileManager.default.contents(atPath: file.path) == Data(bytes), "console.log differs from the stream")
        }
    }
    return 0
}

/// What the live watcher must notice, read plainly: complete lines (ended by LF), cut to the
/// watcher's line limit, printk prefix removed, starting with a marker.
struct WatchedMoments {
    var suiteEnd = false
    var panic = false

    init(_ bytes: [UInt8]) {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        lines.removeLast()  // not ended by a newline yet
        for line in lines {
            let text = ConsoleText.stripPrintkPrefix(String(decoding: line.prefix(ConsoleLimits.standard.maxLineBytes), as: UTF8.self))
            suiteEnd = suiteEnd || text.hasPrefix(ConsoleRecorder.suiteEndMarker)
            panic = panic || text.hasPrefix(ConsoleRecorder.panicMarker)
        }
    }
}

/// Sizes of 1...`limit` bytes that add up to `total`.
func chunks(of total: Int, upTo limit: Int, using generator: inout SeededGenerator) -> [Int] {
    var sizes: [Int] = []
    var left = total
    while left > 0 {
        let size = Int.random(in: 1...min(limit, left), using: &generator)
        sizes.append(size)
        left -= size
    }
    return sizes
}
