import Foundation

/// Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than by
/// `cpio(1)` so that device nodes need no mknod and the result is byte-for-byte reproducible.
public struct CpioArchive {
    /// One member of the archive.
    public enum Entry {
        case directory(path: String)
        case file(path: String, contents: Data, executable: Bool)
        case symlink(path: String, target: String)
        case characterDevice(path: String, major: UInt32, minor: UInt32)
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public mutating func add(_ entry: Entry) { entries.append(entry) }

    /// The archive's bytes, trailer included.
    public func encoded() -> Data {
        var output = Data()
        var inode: UInt32 = 1
        for entry in entries {
            let (name, mode, body, rdev): (String, UInt32, Data, (UInt32, UInt32)) = {
                switch entry {
                case .directory(let path): return (path, 0o040755, Data(), (0, 0))
                case .file(let path, let contents, let executable):
                    return (path, executable ? 0o100755 : 0o100644, contents, (0, 0))
                case .symlink(let path, let target): return (path, 0o120777, Data(target.utf8), (0, 0))
                case .characterDevice(let path, let major, let minor): return (path, 0o020600, Data(), (major, minor))
                }
            }()
            Self.append(name: name, mode: mode, inode: inode, body: body, rdev: rdev, to: &output)
            inode += 1
        }
        Self.append(name: "TRAILER!!!", mode: 0, inode: 0, body: Data(), rdev: (0, 0), to: &output)
        return output
    }

    private static func append(
        name: String, mode: UInt32, inode: UInt32, body: Data, rdev: (UInt32, UInt32), to output: inout Data
    ) {
        let nameBytes = Data(name.utf8) + Data([0])
        let isDirectory = mode & 0o170000 == 0o040000
        let fields: [UInt32] = [
            inode, mode, 0, 0, isDirectory ? 2 : 1, 0, UInt32(body.count),
            0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0,
        ]
        var header = "070701"
        for field in fields { header += String(format: "%08X", field) }
        output.append(Data(header.utf8))
        output.append(nameBytes)
        pad(&output)
        output.append(body)
        pad(&output)
    }

    private static func pad(_ data: inout Data) {
        let remainder = data.count % 4
        if remainder != 0 { data.append(Data(repeating: 0, count: 4 - remainder)) }
    }
}
