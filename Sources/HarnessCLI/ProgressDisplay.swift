import Foundation
import HarnessCore

/// Shows each target's stage and elapsed time while `harness run` works: one redrawn line on a
/// terminal, plain lines otherwise (CI logs), nothing with `--json` on a pipe.
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private let interactive: Bool
    private let quiet: Bool
    private var current: [String: (stage: StageName, since: Date)] = [:]
    private var order: [String] = []
    private var timer: DispatchSourceTimer?

    init(quiet: Bool) {
        self.quiet = quiet
        self.interactive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        if interactive && !quiet {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now(), repeating: .milliseconds(250))
            timer.setEventHandler { [weak self] in self?.redraw() }
            timer.resume()
            self.timer = timer
        }
    }

    func stageStarted(_ target: String, _ stage: StageName) {
        guard !quiet else { return }
        lock.withLock {
            if current[target] == nil { order.append(target) }
            current[target] = (stage, Date())
        }
        if !interactive { emit("\(target): \(stage.rawValue)\n") }
    }

    /// A target is done: its final line, then the live line continues with the others.
    func finished(_ line: String, target: String) {
        lock.withLock {
            current[target] = nil
            order.removeAll { $0 == target }
        }
        emit(clearLine() + line)
    }

    func stop() {
        timer?.cancel()
        timer = nil
        if interactive && !quiet { emit(clearLine()) }
    }

    private func redraw() {
        let text: String = lock.withLock {
            order.compactMap { id in
                current[id].map { "\(id) \($0.stage.rawValue) \(String(format: "%.1f", Date().timeIntervalSince($0.since)))s" }
            }.joined(separator: " | ")
        }
        emit(clearLine() + text)
    }

    private func clearLine() -> String { interactive && !quiet ? "\r\u{1B}[2K" : "" }

    private func emit(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data(text.utf8)) }
    }
}
