import Foundation

/// How much of a console the host reads (README, "Console limits"). A guest can print anything,
/// for as long as it runs: these bound the memory of everything that reads a console (collect,
/// `harness parse`, the renderers' excerpts) whatever the guest did. A real run's console is about
/// 150 KB in 1,000 lines of at most 460 bytes, far inside every limit.
public struct ConsoleLimits: Sendable, Equatable {
    /// Bytes read from the start of the console; the rest is not parsed.
    public var maxBytes: Int
    /// Lines read from the start of the console; the rest is not parsed.
    public var maxLines: Int
    /// Bytes kept of one line; the rest of a longer line is dropped and a marker says so.
    public var maxLineBytes: Int

    public init(maxBytes: Int, maxLines: Int, maxLineBytes: Int) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
        self.maxLineBytes = maxLineBytes
    }

    /// 16 MiB, 200,000 lines, 4 KiB a line (printk's own limit is 1 KiB a line).
    public static let standard = ConsoleLimits(maxBytes: 16 << 20, maxLines: 200_000, maxLineBytes: 4096)
}

/// A console as the host reads it: split into lines on LF only (the serial console ends lines with
/// CR LF, and a lone CR, form feed or U+2028 is no line break, so line numbers match `grep -n`'s),
/// trailing CRs removed, NUL bytes dropped (serial noise, and what databases such as KCIDB's refuse),
/// invalid UTF-8 replaced by U+FFFD, each line decoded on its own so a bad byte cannot take a line
/// break with it. Read under `ConsoleLimits`, streamed, so a console of any size costs bounded memory.
public struct ConsoleTranscript: Sendable {
    /// The console's lines, in order; line N of console.log is `lines[N - 1]`.
    public var lines: [String]
    /// Set when a limit cut the console.
    public var cut: ConsoleCut?

    /// The bytes a cut line ends with, after its first `maxLineBytes` bytes.
    static func cutMarker(totalLineBytes: Int) -> String {
        " [dma-harness: line cut, \(totalLineBytes) bytes]"
    }

    /// Reads the console at `url` in chunks, up to the limits.
    public static func read(from url: URL, limits: ConsoleLimits = .standard) throws -> ConsoleTranscript {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
        var splitter = LineSplitter(limits: limits)
        while !splitter.isFull, let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { splitter.consume($0) }
        }
        return splitter.finish(totalBytes: max(size ?? 0, splitter.consumedBytes))
    }

    /// The same reading of a console already in memory (tests, fuzzers), under the same limits.
    public init(text: String, limits: ConsoleLimits = .standard) {
        var splitter = LineSplitter(limits: limits)
        var text = text
        let total = text.utf8.count
        text.withUTF8 { splitter.consume(UnsafeRawBufferPointer($0)) }
        self = splitter.finish(totalBytes: total)
    }

    init(lines: [String], cut: ConsoleCut?) {
        self.lines = lines
        self.cut = cut
    }
}

/// Cuts a byte stream into console lines under `ConsoleLimits`.
struct LineSplitter {
    let limits: ConsoleLimits
    private(set) var lines: [String] = []
    /// Bytes taken from the stream, NULs and dropped tails included.
    private(set) var consumedBytes = 0
    private var line: [UInt8] = []
    private var lineBytes = 0
    private var lineOverflowed = false
    private var cutLines = 0
    private var firstCutLine: Int?

    init(limits: ConsoleLimits) {
        self.limits = limits
        line.reserveCapacity(min(limits.maxLineBytes, 1024))
    }

    /// Whether a limit has been reached: nothing more is taken.
    var isFull: Bool { consumedBytes >= limits.maxBytes || lines.count >= limits.maxLines }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count, !isFull {
            // Up to the next LF, within what the byte limit still allows (memchr: fast in debug builds too).
            let budget = min(bytes.count - offset, limits.maxBytes - consumedBytes)
            guard let found = memchr(base + offset, 0x0A, budget) else {
                append(UnsafeRawBufferPointer(start: base + offset, count: budget))
                consumedBytes += budget
                return
            }
            let length = base.distance(to: UnsafeRawPointer(found)) - offset
            append(UnsafeRawBufferPointer(start: base + offset, count: length))
            consumedBytes += length + 1
            offset += length + 1
            endLine()
        }
    }

    /// Part of a line: kept up to the line limit, NULs dropped, all of it counted.
    private mutating func append(_ segment: UnsafeRawBufferPointer) {
        lineBytes += segment.count
        for byte in segment where byte != 0 {
            guard line.count < limits.maxLineBytes else {
                lineOverflowed = true
                return
            }
            line.append(byte)
        }
    }

    private mutating func endLine() {
        while line.last == 0x0D { line.removeLast() }
        var text = String(decoding: line, as: UTF8.self)
        if lineOverflowed {
            text += ConsoleTranscript.cutMarker(totalLineBytes: lineBytes)
            cutLines += 1
            if firstCutLine == nil { firstCutLine = lines.count + 1 }
        }
        lines.append(text)
        line.removeAll(keepingCapacity: true)
        lineBytes = 0
        lineOverflowed = false
    }

    /// The lines read; an unterminated last line counts as a line. `totalBytes`: the console's size.
    mutating func finish(totalBytes: Int) -> ConsoleTranscript {
        if lineBytes > 0 || !line.isEmpty { endLine() }
        let stoppedEarly = consumedBytes < totalBytes
        let cut = stoppedEarly || cutLines > 0
            ? ConsoleCut(totalBytes: totalBytes, readBytes: consumedBytes, readLines: lines.count, cutLines: cutLines,
                         firstCutLine: firstCutLine, byteLimit: limits.maxBytes, lineLimit: limits.maxLines,
                         lineByteLimit: limits.maxLineBytes)
            : nil
        return ConsoleTranscript(lines: lines, cut: cut)
    }
}
