import Foundation
import Libvirt
import Testing

/// Domains and lifecycle events against libvirt's in-process test driver.
@Suite("Domain (test:///default)")
struct DomainTests {
    static let uri = "test:///default"
    static let eventTimeout: TimeInterval = 5

    @Test("create a transient domain, look it up, destroy it")
    func createAndDestroy() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let name = uniqueDomainName("create")

        let domain = try connection.createTransientDomain(xml: testDriverDomainXML(name: name), startPaused: false)
        #expect(domain.name == name)
        #expect(domain.uuidString.count == 36)
        #expect(try domain.isActive())
        #expect(try domain.state().kind == .running)
        #expect(try connection.activeDomainNames().contains(name))
        #expect(try connection.domain(named: name)?.uuidString == domain.uuidString)

        try domain.destroy()
        #expect(try !domain.isActive())
        #expect(try connection.domain(named: name) == nil)
        #expect(try !connection.activeDomainNames().contains(name))
        try domain.destroy()  // already gone: still not an error
    }

    @Test("suspend pauses, resume runs")
    func suspendAndResume() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        try connection.withTransientDomain(xml: testDriverDomainXML(name: uniqueDomainName("paused"))) {
            domain throws in
            try domain.suspend()
            #expect(try domain.state().kind == .paused)
            try domain.resume()
            #expect(try domain.state().kind == .running)
        }
    }

    @Test("startPaused reaches libvirt as VIR_DOMAIN_START_PAUSED (the test driver refuses it)")
    func startPausedFlag() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let error = #expect(throws: LibvirtError.self) {
            _ = try connection.createTransientDomain(
                xml: testDriverDomainXML(name: uniqueDomainName("start-paused")), startPaused: true)
        }
        #expect(error?.operation == "virDomainCreateXML")
        #expect(error?.message.contains("unsupported flags (0x1)") == true, "\(String(describing: error))")
    }

    @Test("lifecycle events arrive: started, then stopped (destroyed)")
    func lifecycleEvents() throws {
        // A driver of its own: the shared default one loses events (withPrivateTestDriver).
        try withPrivateTestDriver { uri in
            let connection = try Connection(uri: uri)
            defer { connection.close() }
            let name = uniqueDomainName("events")
            let (events, registration) = try recordLifecycle(of: name, on: connection)
            defer { registration.cancel() }

            let domain = try connection.createTransientDomain(xml: testDriverDomainXML(name: name))
            #expect(events.wait(timeout: Self.eventTimeout) { $0.contains { $0.kind == .started } })
            try domain.destroy()
            #expect(events.wait(timeout: Self.eventTimeout) { $0.contains { $0.isStopped } })

            let stopped = try #require(events.all.first { $0.isStopped })
            #expect(stopped.stoppedReason == "destroyed")
            #expect(stopped.description == "\(name): stopped (destroyed)")
            #expect(!stopped.isShutdownFinished)
        }
    }

    @Test("a cancelled registration gets no more events; cancel is idempotent")
    func cancelRegistration() throws {
        // On a driver of its own, so that "no event" cannot be libvirt losing it (withPrivateTestDriver).
        try withPrivateTestDriver { uri in
            let connection = try Connection(uri: uri)
            defer { connection.close() }
            let name = uniqueDomainName("cancel")
            let (events, registration) = try recordLifecycle(of: name, on: connection)
            registration.cancel()
            registration.cancel()
            #expect(registration.isCancelled)
            // libvirt takes one lifecycle callback per connection: the witness comes after the cancel.
            let (witness, witnessRegistration) = try recordLifecycle(of: name, on: connection)
            defer { witnessRegistration.cancel() }

            try connection.withTransientDomain(xml: testDriverDomainXML(name: name)) { _ in }
            // The registration still standing sees the domain stop; the cancelled one saw nothing.
            #expect(witness.wait(timeout: Self.eventTimeout) { $0.contains { $0.isStopped } })
            #expect(events.all.isEmpty)
        }
    }

    @Test("close deregisters handlers; cancelling afterwards is a no-op")
    func closeDeregisters() throws {
        let connection = try Connection(uri: Self.uri)
        let (_, registration) = try recordLifecycle(of: uniqueDomainName("closed"), on: connection)
        connection.close()
        registration.cancel()
        #expect(registration.isCancelled)
    }

    @Test("withTransientDomain destroys the domain on normal return")
    func scopedNormalReturn() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let name = uniqueDomainName("scoped")
        let seen = try connection.withTransientDomain(xml: testDriverDomainXML(name: name)) { domain throws -> String in
            #expect(try domain.isActive())
            return domain.name
        }
        #expect(seen == name)
        #expect(try connection.domain(named: name) == nil)
    }

    @Test("withTransientDomain destroys the domain when the body throws, and rethrows")
    func scopedThrow() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let name = uniqueDomainName("scoped-throw")
        #expect(throws: ExpectedFailure()) {
            try connection.withTransientDomain(xml: testDriverDomainXML(name: name)) { domain throws in
                #expect(try domain.isActive())
                throw ExpectedFailure()
            }
        }
        #expect(try connection.domain(named: name) == nil)
    }

    @Test("lifecycle event helpers")
    func eventHelpers() {
        let finished = DomainLifecycleEvent(domainName: "d", kind: .shutdown, detail: 0)
        #expect(finished.isShutdownFinished)
        #expect(finished.stoppedReason == nil)
        let crashed = DomainLifecycleEvent(domainName: "d", kind: .stopped, detail: 2)
        #expect(crashed.isStopped && crashed.stoppedReason == "crashed")
        let failed = DomainLifecycleEvent(domainName: "d", kind: .init(rawValue: 5), detail: 5)
        #expect(failed.kind == .stopped && failed.stoppedReason == "failed")
        #expect(DomainLifecycleEvent.Kind(rawValue: 99) == .unknown(99))
        #expect(DomainLifecycleEvent.Kind.crashed.rawValue == 8)
    }
}
