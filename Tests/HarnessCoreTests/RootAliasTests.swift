import Foundation
import Testing
@testable import HarnessCore

/// The short links through which the embedded driver reaches a root whose path is too long for
/// libvirt's sockets.
@Suite("root aliases")
struct RootAliasTests {
    /// A root folder whose path is longer than a socket allows under it.
    static func longRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("harness-root-alias-\(UUID().uuidString)/a-cache-folder-with-a-long-name/libvirt")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        #expect(root.path.utf8.count > HostConnection.longestDirectRoot)
        return root
    }

    @Test("a long root gets one stable link; once its folder is deleted, the next run removes the link, and a live root's link stays")
    func danglingLinksGo() throws {
        let first = try Self.longRoot(), second = try Self.longRoot()
        defer {
            for root in [first, second] {
                try? FileManager.default.removeItem(at: root.deletingLastPathComponent().deletingLastPathComponent())
            }
        }
        let firstLink = try #require(try HostConnection.socketSafeAlias(for: first))
        #expect(try HostConnection.socketSafeAlias(for: first) == firstLink)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: firstLink.path) == first.path)
        let secondLink = try #require(try HostConnection.socketSafeAlias(for: second))
        defer { try? FileManager.default.removeItem(at: secondLink) }

        try FileManager.default.removeItem(at: first.deletingLastPathComponent().deletingLastPathComponent())
        #expect(try HostConnection.socketSafeAlias(for: second) == secondLink)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: firstLink.path)) == nil, "the dangling link is gone")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: secondLink.path) == second.path)
    }

    @Test("a short root is opened as it is, without a link")
    func shortRootNeedsNoLink() throws {
        #expect(try HostConnection.socketSafeAlias(for: URL(fileURLWithPath: "/var/lib/dmah")) == nil)
    }
}
