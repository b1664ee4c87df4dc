import Foundation
import Libvirt
import Testing

/// Host facts and storage through libvirt's in-process test driver, whose fixed host is documented
/// (libvirt's src/test/test_driver.c: 16 CPUs, 3 GiB, a `default-pool`). Uploads need a real
/// daemon and are covered by the many-hosts integration tests.
@Suite("Host facts and storage (test:///default)")
struct StorageTests {
    @Test("capabilities XML and node info come through; a private connection is alive until closed")
    func hostFacts() throws {
        let connection = try Connection(uri: ConnectionTests.uri)
        let xml = try connection.capabilitiesXML()
        #expect(xml.contains("<capabilities>") && xml.contains("<guest>"))
        let node = try connection.nodeInfo()
        #expect(node.cpus == 16 && node.memoryKiB == 3 * 1024 * 1024)
        #expect(connection.isAlive)
        connection.close()
        #expect(!connection.isAlive)
    }

    @Test("a pool's volumes: created, found by name with their capacity and path, copied on the host, deleted")
    func volumes() throws {
        let connection = try Connection(uri: ConnectionTests.uri)
        defer { connection.close() }
        #expect(try connection.storagePool(named: "no-such-pool") == nil)
        let pool = try #require(try connection.storagePool(named: "default-pool"))
        #expect(try pool.isActive())
        let name = "sha256-\(UUID().uuidString.lowercased())"
        let volume = try pool.createVolume(xml: "<volume><name>\(name)</name><capacity unit='bytes'>4096</capacity></volume>")
        #expect(volume.name == name)
        #expect(try pool.volume(named: name)?.capacity() == 4096)
        #expect(try volume.path().hasSuffix(name))
        let copy = try pool.createVolume(xml: "<volume><name>\(name)-copy</name><capacity unit='bytes'>4096</capacity></volume>", copying: volume)
        #expect(try pool.volumeNames().contains(copy.name))
        try copy.delete()
        try volume.delete()
        #expect(try pool.volume(named: name) == nil)
        #expect(try !pool.volumeNames().contains(name))
    }
}
