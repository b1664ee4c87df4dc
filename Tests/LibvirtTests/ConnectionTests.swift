import Foundation
import Libvirt
import Testing

/// The wrapper against libvirt's in-process test driver: no daemon, no QEMU.
@Suite("Connection (test:///default)")
struct ConnectionTests {
    static let uri = "test:///default"

    @Test("open and close; close is idempotent and later calls throw")
    func openAndClose() throws {
        let connection = try Connection(uri: Self.uri)
        #expect(connection.uri == Self.uri)
        #expect(!connection.isClosed)
        #expect(EventLoop.isRunning)
        connection.close()
        connection.close()
        #expect(connection.isClosed)
        #expect(throws: LibvirtError.self) { try connection.libvirtVersion() }
    }

    @Test("versions are dotted triples; libvirt is 9.x or newer")
    func versions() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let library = try connection.libvirtVersion()
        let hypervisor = try connection.hypervisorVersion()
        for version in [library, hypervisor] {
            let parts = version.split(separator: ".")
            #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(version)")
        }
        #expect((Int(library.split(separator: ".")[0]) ?? 0) >= 9)
    }

    @Test("a bad URI fails in virConnectOpen with libvirt's message")
    func badURI() throws {
        do {
            _ = try Connection(uri: "test:///nonexistent/dmah-test-missing.xml")
            Issue.record("opening a missing test-driver file succeeded")
        } catch let error as LibvirtError {
            #expect(error.operation == "virConnectOpen")
            #expect(error.code != 0)
            #expect(error.message.contains("dmah-test-missing.xml"), "\(error)")
            #expect(error.description.hasPrefix("virConnectOpen failed: "))
        }
    }

    @Test("an unknown scheme fails in virConnectOpen")
    func unknownScheme() throws {
        let error = #expect(throws: LibvirtError.self) {
            _ = try Connection(uri: "dmah-bogus:///nowhere")
        }
        #expect(error?.operation == "virConnectOpen")
        #expect(!(error?.message.isEmpty ?? true))
    }

    @Test("activeDomainNames lists the test driver's own domain")
    func activeDomains() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        #expect(try connection.activeDomainNames().contains("test"))
    }

    @Test("domain(named:) is nil for a missing domain")
    func missingDomain() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        #expect(try connection.domain(named: uniqueDomainName("missing")) == nil)
    }

    @Test("malformed XML fails in virDomainCreateXML with libvirt's message")
    func malformedXML() throws {
        let connection = try Connection(uri: Self.uri)
        defer { connection.close() }
        let error = #expect(throws: LibvirtError.self) {
            _ = try connection.createTransientDomain(xml: "<domain type='test'><name>dmah-test-broken")
        }
        #expect(error?.operation == "virDomainCreateXML")
        #expect(error?.message.contains("Premature end of data") == true, "\(String(describing: error))")
    }
}
