import Foundation

/// An exclusive lock on a file (`flock`), held for the duration of a closure. Serializes work on
/// one cache entry between the threads of a run and between concurrent runs: each `open` gets
/// its own open file description, and `flock` locks conflict between descriptions.
public enum FileLock {
    public static func withLock<T>(at file: URL, _ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw HarnessError.infrastructure("cannot create lock file \(file.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw HarnessError.infrastructure("cannot lock \(file.path): \(String(cString: strerror(errno)))")
            }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
