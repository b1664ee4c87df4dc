import Foundation
import Testing
@testable import HarnessCore
import TestSupport

extension Integration {
/// The HTML report as a browser shows it: headless Chromium (Debian `chromium`) renders a real
/// report beside its logs; the screenshot must not be blank and the DOM must hold the matrix.
@Suite("HTML in Chromium", .enabled(if: PythonTools.hasPython, "python3 is not installed"))
struct HTMLRenderTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("a real report renders: matrix table in the DOM, a colourful non-blank screenshot")
    func render() throws {
        let chromium = try #require(Self.chromium, "chromium is missing: .ci/install-deps installs it")
        let report = try CompressedFixture.materialize(ReportValidatorTests.fixtures.appendingPathComponent("run1-all/report.json"))
        let html = report.deletingLastPathComponent().appendingPathComponent("report-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: html) }
        let rendered = try HarnessProcess.run(["report", report.path, "--format", "html", "-o", html.path])
        #expect(rendered.exitCode == 0, "\(rendered.standardError)")

        let profile = HarnessProcess.scratchFolder("chromium")
        defer { try? FileManager.default.removeItem(at: profile) }
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)", "--window-size=1400,1000"]
        let dom = try PythonTools.run(chromium, common + ["--dump-dom", html.absoluteString])
        #expect(dom.status == 0)
        #expect(dom.output.components(separatedBy: "<table class=\"matrix\">").count - 1 == 3, "one matrix per variant")
        #expect(dom.output.contains("<td class=\"c-violated\"><a href=\"#cell-arm64-direct-WRITE_COMBINE\""))
        #expect(dom.output.contains("id=\"cell-arm64-direct-WRITE_COMBINE\""))

        let png = profile.appendingPathComponent("shot.png")
        let shot = try PythonTools.run(chromium, common + ["--screenshot=\(png.path)", html.absoluteString])
        #expect(shot.status == 0, "\(shot.output)")
        // Distinct colours, decoded with the standard library only (zlib + PNG filters).
        let script = """
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        pos, idat, w, h, ctype = 8, b'', 0, 0, 0
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        bpp = {2: 3, 6: 4}[ctype]; raw = zlib.decompress(idat); stride = w * bpp
        prev = bytearray(stride); colours = set(); i = 0
        for y in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            if y % 2 == 0:
                for x in range(0, stride, bpp * 2): colours.add(bytes(line[x:x+3]))
            prev = line
        print(w, h, len(colours))
        """
        let measured = try PythonTools.run(PythonTools.tool("python").path.isEmpty ? "python3" : PythonTools.findPython()!, ["-c", script, png.path])
        #expect(measured.status == 0, "\(measured.output)")
        let numbers = measured.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(numbers.count == 3 && numbers[0] == 1400 && numbers[2] > 50, "size and distinct colours: \(measured.output)")
    }
}
}
