import Foundation
import Libvirt

/// Names every test domain `dmah-test-...`, unique per process and call, because
/// `test:///default` shares one driver state between all connections in the process.
func uniqueDomainName(_ label: String) -> String {
    "dmah-test-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Runs `body` with the URI of a test driver of its own (`test:///<file>`: every open of a file
/// makes a new driver, with its own event state), for tests that wait on events.
///
/// On `test:///default`, shared by the tests running in parallel, libvirt 9.0 loses events: when
/// one test deregisters the last callback while another's domain queues an event,
/// `virObjectEventStateQueueRemote` has already read the timer without the lock, queues the
/// event after the queue was cleared, and arms no timer (its log says "Update of missing timeout
/// timer=-1"). The next registration adds a disarmed timer, and since the queue is no longer
/// empty, no later event arms it: nothing is delivered again on that driver.
func withPrivateTestDriver<T>(_ body: (String) throws -> T) throws -> T {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dmah-test-driver-\(UUID().uuidString).xml")
    try Data("<node/>\n".utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try body("test://\(file.path)")
}

/// The smallest domain the test driver accepts.
func testDriverDomainXML(name: String) -> String {
    """
    <domain type='test'>
      <name>\(name)</name>
      <memory unit='MiB'>16</memory>
      <os><type>hvm</type></os>
    </domain>
    """
}

/// Thread-safe collector for values delivered on the event-loop thread, with bounded waits.
final class Recorder<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Value] = []

    func append(_ value: Value) {
        condition.lock()
        values.append(value)
        condition.broadcast()
        condition.unlock()
    }

    var all: [Value] {
        condition.lock()
        defer { condition.unlock() }
        return values
    }

    /// Waits until `predicate` holds for what was recorded so far, or `timeout` passes.
    @discardableResult
    func wait(timeout: TimeInterval, until predicate: ([Value]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(values) {
            if !condition.wait(until: deadline) {
                return predicate(values)
            }
        }
        return true
    }
}

/// Lifecycle events for one domain name only (the test driver reports every test's domains).
func recordLifecycle(
    of name: String, on connection: Connection
) throws -> (Recorder<DomainLifecycleEvent>, EventRegistration) {
    let recorder = Recorder<DomainLifecycleEvent>()
    let registration = try connection.onDomainLifecycle { event in
        if event.domainName == name {
            recorder.append(event)
        }
    }
    return (recorder, registration)
}

/// Finds an executable on PATH (and in /usr/bin as a fallback).
func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let folders = path.split(separator: ":").map(String.init) + ["/usr/bin"]
    for folder in folders {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
    }
    return nil
}

struct ExpectedFailure: Error, Equatable {}
