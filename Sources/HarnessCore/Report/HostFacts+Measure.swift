import Foundation

extension HostFacts {
    /// The host as this process sees it.
    public static func measure() -> HostFacts {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return HostFacts(hostname: ProcessInfo.processInfo.hostName, kernel: release,
                         cpus: ProcessInfo.processInfo.activeProcessorCount, libvirtVersion: nil, qemuVersion: nil)
    }
}
