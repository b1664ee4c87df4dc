import CLibvirt
import Foundation

extension Connection {
    /// The storage pool named `name` (`virStoragePoolLookupByName`); nil if there is none
    /// (`VIR_ERR_NO_STORAGE_POOL`).
    public func storagePool(named name: String) throws -> StoragePool? {
        try withHandle { connection in
            guard let found = virStoragePoolLookupByName(connection, name) else {
                let error = LibvirtError.last("virStoragePoolLookupByName")
                if error.code == Int32(VIR_ERR_NO_STORAGE_POOL.rawValue) { return nil }
                throw error
            }
            return StoragePool(taking: found)
        }
    }

    /// Creates and starts a transient pool from its XML (`virStoragePoolCreateXML`, building a
    /// `dir` pool's folder if it is missing): it lasts until the daemon stops, and what its
    /// folder holds stays on disk after it.
    public func createTransientStoragePool(xml: String) throws -> StoragePool {
        try withHandle { connection in
            let created = try checkPointer("virStoragePoolCreateXML") {
                virStoragePoolCreateXML(connection, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD.rawValue)
            }
            return StoragePool(taking: created)
        }
    }
}

/// A libvirt storage pool (`virStoragePoolPtr`).
public final class StoragePool: @unchecked Sendable {
    public let name: String
    private let handle: OpaquePointer

    init(taking handle: OpaquePointer) {
        self.handle = handle
        name = virStoragePoolGetName(handle).map { String(cString: $0) } ?? ""
    }

    deinit { virStoragePoolFree(handle) }

    /// Whether the pool is started (`virStoragePoolIsActive`).
    public func isActive() throws -> Bool {
        try check("virStoragePoolIsActive") { virStoragePoolIsActive(handle) } == 1
    }

    /// Starts a defined, inactive pool (`virStoragePoolCreate`).
    public func start() throws {
        try check("virStoragePoolCreate") { virStoragePoolCreate(handle, 0) }
    }

    /// Re-reads the pool's contents (`virStoragePoolRefresh`), so volumes made by others show.
    public func refresh() throws {
        try check("virStoragePoolRefresh") { virStoragePoolRefresh(handle, 0) }
    }

    /// The volume named `name` (`virStorageVolLookupByName`); nil if there is none.
    public func volume(named name: String) throws -> StorageVolume? {
        guard let found = virStorageVolLookupByName(handle, name) else {
            let error = LibvirtError.last("virStorageVolLookupByName")
            if error.code == Int32(VIR_ERR_NO_STORAGE_VOL.rawValue) { return nil }
            throw error
        }
        return StorageVolume(taking: found)
    }

    /// The names of the pool's volumes (`virStoragePoolListAllVolumes`), sorted.
    public func volumeNames() throws -> [String] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virStoragePoolListAllVolumes") { virStoragePoolListAllVolumes(handle, &list, 0) }
        guard let list else { return [] }
        defer { free(list) }
        var names: [String] = []
        for index in 0..<Int(count) {
            guard let volume = list[index] else { continue }
            if let name = virStorageVolGetName(volume) { names.append(String(cString: name)) }
            virStorageVolFree(volume)
        }
        return names.sorted()
    }

    /// Creates a volume from its XML (`virStorageVolCreateXML`).
    public func createVolume(xml: String) throws -> StorageVolume {
        StorageVolume(taking: try checkPointer("virStorageVolCreateXML") { virStorageVolCreateXML(handle, xml, 0) })
    }

    /// Creates a volume from its XML as a copy of `source`, made on the host
    /// (`virStorageVolCreateXMLFrom`): nothing crosses the connection.
    public func createVolume(xml: String, copying source: StorageVolume) throws -> StorageVolume {
        StorageVolume(taking: try checkPointer("virStorageVolCreateXMLFrom") {
            virStorageVolCreateXMLFrom(handle, xml, source.handle, 0)
        })
    }
}

/// A libvirt storage volume (`virStorageVolPtr`).
public final class StorageVolume: @unchecked Sendable {
    public let name: String
    fileprivate let handle: OpaquePointer

    init(taking handle: OpaquePointer) {
        self.handle = handle
        name = virStorageVolGetName(handle).map { String(cString: $0) } ?? ""
    }

    deinit { virStorageVolFree(handle) }

    /// The volume's path on its host (`virStorageVolGetPath`), as a domain XML names it.
    public func path() throws -> String {
        takeString(try checkPointer("virStorageVolGetPath") { virStorageVolGetPath(handle) }) ?? ""
    }

    /// The volume's capacity in bytes (`virStorageVolGetInfo`).
    public func capacity() throws -> UInt64 {
        var info = virStorageVolInfo()
        try check("virStorageVolGetInfo") { virStorageVolGetInfo(handle, &info) }
        return UInt64(info.capacity)
    }

    /// Removes the volume and its data (`virStorageVolDelete`).
    public func delete() throws {
        try check("virStorageVolDelete") { virStorageVolDelete(handle, 0) }
    }

    /// Writes `file` into the volume from its first byte (`virStorageVolUpload` over a blocking
    /// `virStreamNew` stream, `virStreamSend` in chunks, `virStreamFinish`); returns the bytes
    /// sent. On any failure the stream is aborted (`virStreamAbort`) and the error thrown.
    public func upload(from file: URL) throws -> UInt64 {
        guard let reader = FileHandle(forReadingAtPath: file.path) else {
            throw LibvirtError.wrapper("virStorageVolUpload", "cannot read \(file.path)")
        }
        defer { try? reader.close() }
        guard let connection = virStorageVolGetConnect(handle) else { throw LibvirtError.last("virStorageVolGetConnect") }
        let stream = try checkPointer("virStreamNew") { virStreamNew(connection, 0) }
        defer { virStreamFree(stream) }
        let length = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? UInt64) ?? 0
        try check("virStorageVolUpload") { virStorageVolUpload(handle, stream, 0, length, 0) }
        var sent: UInt64 = 0
        do {
            while let chunk = try reader.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let base = bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                        let written = try check("virStreamSend") { virStreamSend(stream, base, bytes.count - offset) }
                        offset += Int(written)
                    }
                }
                sent += UInt64(chunk.count)
            }
            try check("virStreamFinish") { virStreamFinish(stream) }
        } catch {
            virStreamAbort(stream)
            virResetLastError()
            throw error
        }
        return sent
    }
}
