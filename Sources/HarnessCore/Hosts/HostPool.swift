import Foundation
import Logging

/// The hosts of a run and their free slots. A boot leases a slot on a host that can run its
/// target, the host with the largest share of its capacity free; a host that is lost takes no
/// more leases.
final class HostPool: @unchecked Sendable {
    private let condition = NSCondition()
    let hosts: [LibvirtHost]
    /// Hosts named by the user that could not be reached, and why (for the report).
    let unreachable: [HostRecord]

    struct Lease: Sendable {
        let host: LibvirtHost
        /// The host's emulator for the target; nil when the boot resolves it on this machine.
        let emulator: String?
    }

    init(hosts: [LibvirtHost], unreachable: [HostRecord] = []) {
        self.hosts = hosts
        self.unreachable = unreachable
    }

    /// This machine's embedded driver only, `jobs` guests at once.
    static func local(jobs: Int, cacheRoot: URL, logger: Logger) -> HostPool {
        HostPool(hosts: [LibvirtHost(localEmbeddedWith: max(1, jobs), cacheRoot: cacheRoot, logger: logger)])
    }

    /// The hosts the user named, each connected and probed at once (in parallel); a host that
    /// cannot be reached is reported and left out. Throws when none can be reached.
    static func connect(_ entries: [HostEntry], logger: Logger) throws -> HostPool {
        // One box per host: the connections are made at once, each writing only its own.
        let results = entries.map { _ in LockedBox<Result<LibvirtHost, Error>?>(nil) }
        DispatchQueue.concurrentPerform(iterations: entries.count) { index in
            results[index].set(Result { try LibvirtHost(index: index, entry: entries[index], logger: logger) })
        }
        var hosts: [LibvirtHost] = [], unreachable: [HostRecord] = []
        for index in entries.indices {
            switch results[index].get()! {
            case .success(let host): hosts.append(host)
            case .failure(let error):
                let why = (error as? HarnessError)?.message ?? "\(error)"
                unreachable.append(HostRecord(uri: Redaction.uri(entries[index].uri), capacity: 0, artifacts: .files,
                                              unreachable: Redaction.uri(why)))
            }
        }
        guard !hosts.isEmpty else {
            let why = unreachable.count == 1 ? unreachable[0].unreachable ?? ""
                : "no libvirt host could be reached: " + unreachable.map { "\($0.uri): \($0.unreachable ?? "")" }.joined(separator: "; ")
            throw Unreachable(records: unreachable, error: HarnessError.infrastructure(why))
        }
        for host in unreachable { logger.warning("host \(host.uri) left out: \(host.unreachable ?? "")") }
        return HostPool(hosts: hosts, unreachable: unreachable)
    }

    /// No host of the run could be reached: the records say why, for the report.
    struct Unreachable: Error {
        var records: [HostRecord]
        var error: HarnessError
    }

    /// Every guest at once the pool can hold.
    var totalCapacity: Int { hosts.reduce(0) { $0 + $1.capacity } }

    /// Why no host that is still in the run can run `target` (avoiding `excluded`), or nil if one can.
    func whyNoHost(for target: Target, excluding excluded: Set<Int> = []) -> String? {
        condition.withLock { whyNoHostLocked(for: target, excluding: excluded) }
    }

    private func whyNoHostLocked(for target: Target, excluding excluded: Set<Int>) -> String? {
        var reasons: [String] = []
        for host in hosts {
            if excluded.contains(host.index) { reasons.append("\(host.displayURI): already tried"); continue }
            if let lost = host.lost { reasons.append("\(host.displayURI): lost (\(lost))"); continue }
            switch host.emulator(for: target) {
            case .success: return nil
            case .failure(let missing): reasons.append("\(host.displayURI): \(missing.reason)")
            }
        }
        return "no host can run \(target.id): " + reasons.joined(separator: "; ")
    }

    /// A slot for `target` if one is free now.
    func tryLease(for target: Target, excluding excluded: Set<Int> = []) -> Lease? {
        condition.withLock { leaseLocked(for: target, excluding: excluded) }
    }

    /// A slot for `target`, waiting for one to free; nil when no host still in the run can run it.
    func lease(for target: Target, excluding excluded: Set<Int> = []) -> Lease? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if whyNoHostLocked(for: target, excluding: excluded) != nil { return nil }
            if let lease = leaseLocked(for: target, excluding: excluded) { return lease }
            condition.wait()
        }
    }

    private func leaseLocked(for target: Target, excluding excluded: Set<Int>) -> Lease? {
        var best: (host: LibvirtHost, emulator: String?, free: Double)?
        for host in hosts where host.lost == nil && !excluded.contains(host.index) && host.busy < host.capacity {
            guard case .success(let emulator) = host.emulator(for: target) else { continue }
            let free = Double(host.capacity - host.busy) / Double(host.capacity)
            if best == nil || free > best!.free { best = (host, emulator, free) }
        }
        guard let best else { return nil }
        best.host.busy += 1
        return Lease(host: best.host, emulator: best.emulator)
    }

    func release(_ lease: Lease) {
        condition.withLock {
            lease.host.busy -= 1
            condition.broadcast()
        }
    }

    /// Takes a host out of the run: its running boots end on their own, it gets no new ones.
    func markLost(_ host: LibvirtHost, reason: String) {
        condition.withLock {
            if host.lost == nil { host.lost = reason }
            condition.broadcast()
        }
    }

    /// Wakes whoever waits on the pool: something they wait for (a slot, a prepared target) changed.
    func notify() { condition.withLock { condition.broadcast() } }

    enum DispatchStep { case progress, wait, done }

    /// Runs `step` under the pool's lock until it says done, waiting for a change (a slot freed, a
    /// host lost, `notify`) whenever it says wait. `step` gets the pool's lease and capability
    /// checks, which need that lock held.
    func dispatch(_ step: (_ lease: (Target) -> Lease?, _ whyNoHost: (Target) -> String?) -> DispatchStep) {
        condition.lock()
        defer { condition.unlock() }
        let lease = { (target: Target) in self.leaseLocked(for: target, excluding: []) }
        let whyNoHost = { (target: Target) in self.whyNoHostLocked(for: target, excluding: []) }
        while true {
            switch step(lease, whyNoHost) {
            case .done: return
            case .progress: continue
            case .wait: condition.wait()
            }
        }
    }

    /// The report's view of every host, in the order the user named them.
    func records() -> [HostRecord] {
        (hosts.map { $0.finalRecord() } + unreachable)
    }
}
