import Foundation
import Testing
@testable import HarnessCore
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Paths with quotes, ampersands, apostrophes, `<`, spaces and newlines, as `--out`, `--kernel` and
/// `--cache-dir` (and a shard folder that `harness merge` turns into log paths) can name them.
@Suite("hostile paths")
struct HostilePathTests {
    /// Every character a path may hold that markup or a URI could take for syntax.
    static let hostile = "/tmp/out \"q\" & 'a' <x> #h ?q=1 %41 (p)|`c`[l](j)\tt\nn\rr/é"

    let layout = ProjectLayout(root: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent())

    @Test("domain XML: every path parses back exactly, newline, tab and CR included, and adds no element")
    func domainXML() throws {
        let target = Target(profile: try ArchCatalog(layout: layout).profile(named: "arm64"), variant: "direct", suite: try SuiteCatalog(layout: layout).defaultSuite, kernel: .debian)
        let kernel = Self.hostile + "/vmlinuz", initramfs = Self.hostile + "/initramfs.cpio"
        let console = Self.hostile + "/arm64-direct/console.log", emulator = Self.hostile + "/qemu-system-aarch64"
        var spec = BootSpec(domainName: "dmah-1-arm64-direct", kernelImage: kernel, initramfs: initramfs,
                            kernelArguments: ["console=ttyAMA0", "panic=-1"])
        spec.consoleLogFile = console
        let xml = DomainXML.make(target: target, boot: spec, emulator: emulator)
        let document = try XMLDocument(xmlString: xml)
        #expect(try document.nodes(forXPath: "/domain/os/kernel").first?.stringValue == kernel)
        #expect(try document.nodes(forXPath: "/domain/os/initrd").first?.stringValue == initramfs)
        #expect(try document.nodes(forXPath: "/domain/devices/emulator").first?.stringValue == emulator)
        #expect(try document.nodes(forXPath: "/domain/devices/serial/log/@file").first?.stringValue == console,
                "an attribute keeps its newline, tab and CR (written as references)")
        let plain = try XMLDocument(xmlString: DomainXML.make(target: target, boot: {
            var plain = spec
            (plain.kernelImage, plain.initramfs, plain.consoleLogFile) = ("/k", "/i", "/c")
            return plain
        }(), emulator: "/q"))
        #expect(try document.nodes(forXPath: "//*").count == plain.nodes(forXPath: "//*").count, "no element from a path")
    }

    @Test("the embedded libvirt URI carries any cache path in its root parameter and gives it back")
    func embeddedURI() throws {
        for path in [Self.hostile, "/root/.cache/dma-harness/libvirt", "/a+b/c%20d"] {
            let root = URL(fileURLWithPath: path)
            let uri = HostConnection.embeddedURI(root: root)
            #expect(HostConnection.embeddedRoot(of: uri)?.path == root.path, "\(uri)")
            let query = try #require(uri.split(separator: "?", maxSplits: 1).last)
            #expect(query.hasPrefix("root=") && !query.dropFirst(5).contains { " &#?\n\t\"'<>".contains($0) }, "\(uri)")
        }
        #expect(HostConnection.embeddedURI(root: URL(fileURLWithPath: "/root/.cache/dma-harness/libvirt"))
                == "qemu:///embed?root=/root/.cache/dma-harness/libvirt", "an ordinary path is unchanged")
    }

    /// The recorded nine-target report with its shard folder named `name`, rebased as `harness merge` does;
    /// and arm64-direct's console path (a failed target: Markdown links its console lines).
    func mergedReport(shardFolder name: String) throws -> (report: RunReport, console: String) {
        let shard = FileManager.default.temporaryDirectory.appendingPathComponent("merge").appendingPathComponent(name)
        let report = ReportMerge.rebaseLogs(try ReportFixture.load(ReportFixture.all), from: shard,
                                            to: FileManager.default.temporaryDirectory.appendingPathComponent("merge/out"))
        return (report, try #require(report.targets.first { $0.id == "arm64-direct" }?.logs.console))
    }

    static let shardName = "shard \"q\" & 'a' <x> #h ?q (p)|`c`[l](javascript:x)\nn"

    @Test("report log paths: HTML hrefs, Markdown links, JUnit properties and KCIDB URLs give the path back exactly")
    func reportPaths() throws {
        let (report, console) = try mergedReport(shardFolder: Self.shardName)
        #expect(console == "../\(Self.shardName)/arm64-direct/console.log")

        // HTML: the href decodes to the path, and the path adds no element or attribute.
        let html = try ParsedHTML.parse(HTMLReport.render(report, reportFolder: FileManager.default.temporaryDirectory))
        let plain = try ParsedHTML.parse(HTMLReport.render(try mergedReport(shardFolder: "shard").report,
                                                           reportFolder: FileManager.default.temporaryDirectory))
        let hrefs = html.attributes.filter { $0[0] == "href" }.map { $0[1] }
        #expect(hrefs.contains { $0.removingPercentEncoding == console })
        #expect(hrefs.allSatisfy { !$0.contains(" ") && !$0.contains("\n") && !$0.hasPrefix("javascript") })
        #expect(html.tagNames == plain.tagNames && html.attributeNames == plain.attributeNames)

        // Markdown: each link's destination is one percent-encoded word that decodes to the path.
        let markdown = ParsedMarkdown(MarkdownReport.render(report))
        let logLinks = markdown.links.filter { ["console.log", "qemu.log"].contains($0.text) || $0.text.hasPrefix("line") }
        #expect(!logLinks.isEmpty)
        let logPaths = Set(report.targets.flatMap { [$0.logs.console, $0.logs.qemu].compactMap { $0 } })
        #expect(logLinks.contains { $0.destination.hasPrefix(MarkdownText.destination(console) + "#L") })
        for link in logLinks {
            let file = link.destination.split(separator: "#").first.map(String.init) ?? ""
            #expect(file.removingPercentEncoding.map(logPaths.contains) == true, "\(link.destination)")
            #expect(link.destination.range(of: "^[A-Za-z0-9._~%/-]+(#L[0-9]+)?$", options: .regularExpression) != nil)
        }
        for rows in markdown.tableRows { #expect(Set(rows).count == 1) }

        // JUnit: the property's value is the path, newline included.
        let junit = try XMLDocument(xmlString: JUnitReport.render(report))
        #expect(try junit.nodes(forXPath: "//property[@name='console_log']/@value").compactMap(\.stringValue).contains(console))

        // KCIDB: an absolute URL whose path decodes to the base plus the log path.
        let base = "https://ci.example/runs/42/"
        let kcidb = try #require(try JSONSerialization.jsonObject(with: try KCIDBReport.render(report, logURLBase: base)) as? [String: Any])
        let urls = (kcidb["tests"] as? [[String: Any]] ?? []).compactMap { $0["log_url"] as? String }
        #expect(!urls.isEmpty && urls.allSatisfy { URL(string: $0) != nil }, "valid URLs: \(urls)")
        #expect(urls.contains { $0.hasPrefix(base) && String($0.dropFirst(base.count)).removingPercentEncoding == console })
    }

    @Test("a path kbuild or a one-line message cannot take is refused before the run, naming the option", arguments: [
        ("--out", "/tmp/out\nnext"), ("--kernel", "/tmp/vmlinuz\n"), ("--kbuild", "/tmp/linux\tbuild"),
        ("--cache-dir", "/tmp/cache\rx"), ("--cache-dir", "/tmp/my cache"), ("--cache-dir", "/tmp/a'b"),
        ("--cache-dir", "/tmp/a:b"), ("--cache-dir", "/tmp/$(id)"), ("--kbuild", "/tmp/linux \"6.1\""),
    ])
    func refusedPath(option: String, path: String) throws {
        let options = Self.options(option, path)
        let error = try #require(throws: HarnessError.self) { try options.checkPaths() }
        #expect(error.status == .usage)
        #expect(error.message.hasPrefix(option + " "), "\(error.message)")
        #expect(!error.message.contains { $0.isNewline }, "one line: \(error.message.debugDescription)")
    }

    @Test("paths that are only awkward for markup are accepted", arguments: [
        ("--out", "/tmp/out \"q\" & 'a' <x> (p)"), ("--kernel", "/tmp/my kernels/vmlinuz 'test' & <new>"),
        ("--cache-dir", "/tmp/cache-1.2_x+y@z/é"), ("--kbuild", "/usr/src/linux-6.1.0"),
    ])
    func acceptedPath(option: String, path: String) throws {
        try Self.options(option, path).checkPaths()
    }

    @Test("harness run refuses a newline in --out before it plans, provisions or writes anything")
    func runRefusesBeforeAnything() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-out-\(UUID().uuidString)\nx")
        let options = Self.options("--out", out.path)
        let run = HarnessRun(options: options, layout: layout, cancellation: Cancellation(), logger: .init(label: "test"))
        let error = try #require(throws: HarnessError.self) { try run.execute() }
        #expect(error.status == .usage && error.message.hasPrefix("--out "))
        #expect(!FileManager.default.fileExists(atPath: out.path), "--out not created")
    }

    static func options(_ option: String, _ path: String) -> RunOptions {
        let kernel: KernelChoice = switch option {
        case "--kernel": .user(kernelFile: path, kbuildDirectory: "/usr/src/linux")
        case "--kbuild": .user(kernelFile: "/boot/vmlinuz", kbuildDirectory: path)
        default: .debian
        }
        return RunOptions(
            arches: ["arm"], variants: ["direct"], kernel: kernel, connectURI: nil,
            cacheRoot: URL(fileURLWithPath: option == "--cache-dir" ? path : "/tmp/cache"),
            outDirectory: URL(fileURLWithPath: option == "--out" ? path : "/tmp/out"),
            timeout: 300, jobs: 1, extraKernelArguments: [], commandLine: ["harness", "run"])
    }
}
