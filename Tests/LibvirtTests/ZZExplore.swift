import Foundation
import Libvirt
import Testing

@Test func explore() throws {
    let emulator = EmbeddedQemuTests.emulator!
    func t<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        let s = Date(); let r = try body(); print("EXPLORE \(label): \(String(format: "%.2f", Date().timeIntervalSince(s)))s"); return r
    }
    let rootA = try EmbeddedQemuTests.makeDriverRoot()
    let rootB = try EmbeddedQemuTests.makeDriverRoot()
    defer { try? FileManager.default.removeItem(at: rootA); try? FileManager.default.removeItem(at: rootB) }
    do {
        let c = try Connection(uri: "qemu:///embed?root=\(rootA.path)")
        print("EXPLORE A version \(try c.hypervisorVersion())")
        c.close()
    }
    Thread.sleep(forTimeInterval: 2)
    do {
        _ = try Connection(uri: "qemu:///embed?root=\(rootB.path)")
        print("EXPLORE second root opened fine")
    } catch { print("EXPLORE second root: \(error)") }
    let b = try Connection(uri: "qemu:///embed?root=\(rootA.path)")
    let noEmu = EmbeddedQemuTests.domainXML(name: uniqueDomainName("b"), emulator: emulator).replacingOccurrences(of: "<emulator>\(emulator)</emulator>", with: "")
    let d = try t("A: first create without <emulator>") { try b.createTransientDomain(xml: noEmu, startPaused: true) }
    try d.destroy()
    b.close()
    print("EXPLORE caps files: \(try FileManager.default.subpathsOfDirectory(atPath: rootA.path).filter { $0.contains("capabilities/") })")
}
