import Foundation

/// The table a self-decompressing image keeps for loaders such as kexec: its header has a
/// signature at byte 0x24, an endianness word at 0x30 and, behind the marker 0x45454545 at 0x34,
/// the table's offset at 0x38. The table is a list of blocks (word count, tag, values) ending in
/// a zero word; the block tagged "KLSZ" holds the offset of the word that gives the payload's
/// uncompressed size, the kernel's BSS size and, from its fifth word on, the text offset: how far
/// into RAM the decompressor puts the kernel, which the kernel's own start-up code relies on.
/// Little-endian images only; anything else reads as no table.
struct LoaderTable: Equatable {
    static let signature: UInt32 = 0x016F_2818
    static let littleEndian: UInt32 = 0x0403_0201
    static let tableMarker: UInt32 = 0x4545_4545
    static let sizeTag: UInt32 = 0x5A53_4C4B

    /// Where in the image the payload's uncompressed size is stored (the payload ends there).
    var payloadSizeOffset: Int
    var payloadSize: Int
    var textOffset: UInt64

    init?(_ data: Data) {
        func word(_ offset: Int) -> UInt32? {
            guard offset >= 0, offset + 4 <= data.count else { return nil }
            return (0..<4).reduce(0) { $0 | UInt32(data[data.startIndex + offset + $1]) << (8 * UInt32($1)) }
        }
        guard word(0x24) == Self.signature, word(0x30) == Self.littleEndian, word(0x34) == Self.tableMarker,
              let tableStart = word(0x38) else { return nil }
        var cursor = Int(tableStart)
        // A block is at least its count and tag; a table is a few blocks, so a bound keeps a
        // corrupt one from walking the whole file.
        for _ in 0..<16 {
            guard let count = word(cursor), count != 0 else { return nil }
            guard count >= 2, let tag = word(cursor + 4) else { return nil }
            if tag == Self.sizeTag {
                guard count >= 5, let sizeAt = word(cursor + 8), let text = word(cursor + 16),
                      let size = word(Int(sizeAt)), size > 0 else { return nil }
                (payloadSizeOffset, payloadSize, textOffset) = (Int(sizeAt), Int(size), UInt64(text))
                return
            }
            cursor += Int(count) * 4
        }
        return nil
    }
}

/// U-Boot's legacy image header (its include/image.h), 64 bytes, big-endian, before the kernel:
/// QEMU's loader reads the load and entry address from it and boots the kernel as Linux.
enum UImage {
    static let magic: UInt32 = 0x2705_1956
    static let linux: UInt8 = 5
    static let kernelType: UInt8 = 2
    static let uncompressed: UInt8 = 0

    /// The header for `kernel`, entered where it is loaded. The time stamp is 0, so the same kernel
    /// always gets the same bytes.
    static func header(for kernel: Data, loadAddress: UInt32, architecture: UInt8, name: String) -> Data {
        func field(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        let nameBytes = Array(name.utf8.prefix(31))
        let kernelCRC = CRC32.checksum(kernel)
        func bytes(headerCRC: UInt32) -> [UInt8] {
            field(magic) + field(headerCRC) + field(0) + field(UInt32(kernel.count)) + field(loadAddress) + field(loadAddress)
                + field(kernelCRC) + [linux, architecture, kernelType, uncompressed]
                + nameBytes + [UInt8](repeating: 0, count: 32 - nameBytes.count)
        }
        return Data(bytes(headerCRC: CRC32.checksum(Data(bytes(headerCRC: 0)))))
    }
}

/// CRC-32 as zlib and U-Boot compute it (reflected, polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum(_ data: Data) -> UInt32 {
        let crc = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> UInt32 in
            table.withUnsafeBufferPointer { table in
                bytes.reduce(UInt32.max) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
        return ~crc
    }
}
