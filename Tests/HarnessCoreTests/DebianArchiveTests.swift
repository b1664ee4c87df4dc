import Foundation
import Testing
@testable import HarnessCore

@Suite("Debian archive lists")
struct DebianArchiveTests {
    func archive(withListFiles names: [String]) throws -> (DebianArchive, URL) {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("dh-lists-\(UUID().uuidString)")
        let suite = DebianSuite(name: "bookworm", release: "12", sources: ["deb http://deb.debian.org/debian bookworm main"])
        let archive = DebianArchive(suite: suite, debianArch: "arm64", cacheRoot: cache, logger: .init(label: "test"))
        try FileManager.default.createDirectory(at: archive.listsDirectory, withIntermediateDirectories: true)
        for name in names { try Data().write(to: archive.listsDirectory.appendingPathComponent(name)) }
        return (archive, cache)
    }

    @Test("package lists count as present however apt stored them", arguments: [
        "deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages",
        "deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages.lz4",
        "deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages.xz",
    ])
    func listsPresent(name: String) throws {
        let (archive, cache) = try archive(withListFiles: ["deb.debian.org_debian_dists_bookworm_InRelease", name])
        defer { try? FileManager.default.removeItem(at: cache) }
        #expect(archive.hasLists)
    }

    @Test("a lists folder with only release files and partial downloads has no lists")
    func listsAbsent() throws {
        let (archive, cache) = try archive(withListFiles: ["deb.debian.org_debian_dists_bookworm_InRelease", "lock"])
        defer { try? FileManager.default.removeItem(at: cache) }
        #expect(!archive.hasLists)
    }

    @Test("lists count as complete only with the marker an update writes once every index came")
    func partialListsAreNotComplete() throws {
        let (archive, cache) = try archive(withListFiles: ["deb.debian.org_debian-security_dists_bookworm-security_main_binary-arm64_Packages.lz4"])
        defer { try? FileManager.default.removeItem(at: cache) }
        #expect(archive.hasLists && !archive.hasCompleteLists, "some lists, as a full disk or a mirror mid-sync leaves them")
        try Data().write(to: archive.completeMarker)
        #expect(archive.hasCompleteLists)
    }
}
