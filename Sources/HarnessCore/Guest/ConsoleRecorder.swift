import Foundation

/// Watches the guest's live console, line by line, for the moments the boot stage acts on (the
/// suite's end and a kernel panic) and the milestones of the guest's timeline (/init, the suite's
/// start, each suite's result). Writes the console to `console.log` too, unless QEMU logs it.
final class ConsoleRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?
    private var partialLine: [UInt8] = []
    /// When each of `markers` first began a line.
    private var firstSeen: [String: Date] = [:]
    private var suiteResultsSeen: [(name: String, at: Date)] = []
    private var byteCount = 0

    static let suiteEndMarker = "dma-harness: suite end"
    static let suiteStartMarker = "dma-harness: suite start"
    static let initMarker = "Run /init as init process"
    static let panicMarker = "Kernel panic - not syncing"
    static let markers = [suiteEndMarker, suiteStartMarker, initMarker, panicMarker]
    /// The suite results a timeline keeps: the plan has about a dozen, and a console that lies
    /// cannot grow the list.
    static let maxSuiteResults = 64

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
            bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var start = 0
                while start < buffer.count, let found = memchr(base + start, 0x0A, buffer.count - start) {
                    let newline = base.distance(to: UnsafeRawPointer(found))
                    keepStart(of: UnsafeRawBufferPointer(rebasing: buffer[start..<newline]))
                    watch(ConsoleText.stripPrintkPrefix(String(decoding: partialLine, as: UTF8.self)))
                    partialLine.removeAll(keepingCapacity: true)
                    start = newline + 1
                }
                keepStart(of: UnsafeRawBufferPointer(rebasing: buffer[start...]))
            }
        }
    }

    /// The markers are line prefixes: a line's first `ConsoleLimits.standard.maxLineBytes` bytes are
    /// all that is kept of it, so a guest printing without a newline cannot grow this buffer.
    private func keepStart(of bytes: UnsafeRawBufferPointer) {
        let room = ConsoleLimits.standard.maxLineBytes - partialLine.count
        if room > 0 { partialLine += bytes.prefix(room) }
    }

    private func watch(_ line: String) {
        for marker in Self.markers where firstSeen[marker] == nil && line.hasPrefix(marker) { firstSeen[marker] = Date() }
        // A suite's result is a KTAP result line at the document's own level (subtests are indented).
        if suiteResultsSeen.count < Self.maxSuiteResults, line.first != " ",
           let name = ResultLine(line)?.name, !name.isEmpty {
            suiteResultsSeen.append((name, Date()))
        }
    }

    /// When each milestone was read, in seconds after `start` (the guest's resume).
    func timeline(since start: Date) -> BootTimeline {
        lock.withLock {
            // Never negative, should the wall clock step back during the boot.
            let seconds = { (date: Date) in max(0, date.timeIntervalSince(start)) }
            return BootTimeline(initSeconds: firstSeen[Self.initMarker].map(seconds),
                                suiteStartSeconds: firstSeen[Self.suiteStartMarker].map(seconds),
                                suiteEndSeconds: firstSeen[Self.suiteEndMarker].map(seconds),
                                suites: suiteResultsSeen.map { SuiteArrival(name: $0.name, seconds: seconds($0.at)) })
        }
    }

    var suiteEnded: Bool { suiteEndTime != nil }
    var suiteEndTime: Date? { lock.withLock { firstSeen[Self.suiteEndMarker] } }
    var panicTime: Date? { lock.withLock { firstSeen[Self.panicMarker] } }
    var bytesWritten: Int { lock.withLock { byteCount } }

    func close() {
        lock.withLock { try? handle?.close() }
    }
}
