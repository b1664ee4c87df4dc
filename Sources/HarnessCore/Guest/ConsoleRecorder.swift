import Foundation

/// Watches the guest's live console, line by line, for the moments the boot stage acts on (the
/// suite's end and a kernel panic) and the milestones of the guest's timeline (/init, the suite's
/// start, each suite's result). Writes the console to `console.log` too, unless QEMU logs it.
final class ConsoleRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?
    private var partialLine: [UInt8] = []
    private var suiteEndSeenAt: Date?
    private var panicSeenAt: Date?
    private var initSeenAt: Date?
    private var suiteStartSeenAt: Date?
    private var suiteResultsSeen: [(name: String, at: Date)] = []
    private var byteCount = 0

    static let suiteEndMarker = "dma-harness: suite end"
    static let suiteStartMarker = "dma-harness: suite start"
    static let initMarker = "Run /init as init process"
    static let panicMarker = "Kernel panic - not syncing"
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
        if line.hasPrefix(Self.suiteEndMarker), suiteEndSeenAt == nil { suiteEndSeenAt = Date() }
        if line.hasPrefix(Self.panicMarker), panicSeenAt == nil { panicSeenAt = Date() }
        if line.hasPrefix(Self.initMarker), initSeenAt == nil { initSeenAt = Date() }
        if line.hasPrefix(Self.suiteStartMarker), suiteStartSeenAt == nil { suiteStartSeenAt = Date() }
        if suiteResultsSeen.count < Self.maxSuiteResults, let name = Self.topLevelResultName(line) {
            suiteResultsSeen.append((name, Date()))
        }
    }

    /// The test name of a top-level KTAP result line (`ok 3 dma_edu`, `not ok 2 dma_alloc # ...`):
    /// each suite's result, which subtests (indented) never match.
    static func topLevelResultName(_ line: String) -> String? {
        var rest = Substring(line)
        if rest.hasPrefix("not ") { rest = rest.dropFirst(4) }
        guard rest.hasPrefix("ok ") else { return nil }
        rest = rest.dropFirst(3)
        let number = rest.prefix { $0.isASCII && $0.isNumber }
        guard !number.isEmpty, rest.dropFirst(number.count).first == " " else { return nil }
        let name = rest.dropFirst(number.count + 1).prefix { $0 != " " && $0 != "#" }
        return name.isEmpty ? nil : String(name.prefix(ConsoleLimits.standard.maxLineBytes))
    }

    /// When each milestone was read, in seconds after `start` (the guest's resume).
    func timeline(since start: Date) -> BootTimeline {
        lock.withLock {
            // Never negative, should the wall clock step back during the boot.
            let seconds = { (date: Date?) in date.map { max(0, $0.timeIntervalSince(start)) } }
            return BootTimeline(initSeconds: seconds(initSeenAt), suiteStartSeconds: seconds(suiteStartSeenAt),
                                suiteEndSeconds: seconds(suiteEndSeenAt),
                                suites: suiteResultsSeen.map { SuiteArrival(name: $0.name, seconds: max(0, $0.at.timeIntervalSince(start))) })
        }
    }

    var suiteEnded: Bool { lock.withLock { suiteEndSeenAt != nil } }
    var suiteEndTime: Date? { lock.withLock { suiteEndSeenAt } }
    var panicTime: Date? { lock.withLock { panicSeenAt } }
    var bytesWritten: Int { lock.withLock { byteCount } }

    func close() {
        lock.withLock { try? handle?.close() }
    }
}
