import Foundation

/// Watches the guest's live console, line by line, for the moments the boot stage acts on: the
/// suite's end and a kernel panic. Writes the console to `console.log` too, unless QEMU logs it.
final class ConsoleRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?
    private var partialLine: [UInt8] = []
    private var suiteEndSeenAt: Date?
    private var panicSeenAt: Date?
    private var byteCount = 0

    static let suiteEndMarker = "dma-harness: suite end"
    static let panicMarker = "Kernel panic - not syncing"
    /// How much of a line the watcher keeps: a guest that prints without newlines must not grow the
    /// host's memory (console.log still gets every byte).
    static let lineLimit = 4096

    /// `file` nil: watch only.
    init(file: URL?) throws {
        guard let file else {
            handle = nil
            return
        }
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: file.path) else {
            throw HarnessError.usage("cannot write \(file.path): check that --out is writable")
        }
        self.handle = handle
    }

    func append(_ bytes: [UInt8]) {
        lock.withLock {
            handle?.write(Data(bytes))
            byteCount += bytes.count
            // Split on the byte: the serial console ends lines with CR LF, which Swift sees as one Character.
            // Only the new bytes are searched, so a long line costs no more than its length.
            var lineStart = bytes.startIndex
            while let newline = bytes[lineStart...].firstIndex(of: 0x0A) {
                keep(bytes[lineStart..<newline])
                watch(partialLine)
                partialLine.removeAll(keepingCapacity: true)
                lineStart = newline + 1
            }
            keep(bytes[lineStart...])
        }
    }

    /// Adds to the line being received, up to `lineLimit` bytes: the moments are in how lines start.
    private func keep(_ bytes: ArraySlice<UInt8>) {
        partialLine += bytes.prefix(max(0, Self.lineLimit - partialLine.count))
    }

    private func watch(_ bytes: [UInt8]) {
        let line = ConsoleText.stripPrintkPrefix(String(decoding: bytes, as: UTF8.self))
        if line.hasPrefix(Self.suiteEndMarker), suiteEndSeenAt == nil { suiteEndSeenAt = Date() }
        if line.hasPrefix(Self.panicMarker), panicSeenAt == nil { panicSeenAt = Date() }
    }

    var suiteEnded: Bool { lock.withLock { suiteEndSeenAt != nil } }
    var suiteEndTime: Date? { lock.withLock { suiteEndSeenAt } }
    var panicTime: Date? { lock.withLock { panicSeenAt } }
    var bytesWritten: Int { lock.withLock { byteCount } }

    func close() {
        lock.withLock { try? handle?.close() }
    }
}
