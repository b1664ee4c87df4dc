import Foundation
import HarnessCore

/// A recorded report kept xz-compressed in git (the full 9-target run is 2.6 MB of JSON), unpacked
/// beside itself on first use so that its relative log paths still resolve.
public enum CompressedFixture {
    public static func materialize(_ file: URL) throws -> URL {
        let packed = file.appendingPathExtension("xz")
        guard !FileManager.default.fileExists(atPath: file.path), FileManager.default.fileExists(atPath: packed.path) else {
            return file
        }
        let scratch = file.appendingPathExtension("\(getpid())-\(UUID().uuidString)")
        try Subprocess.checked("sh", ["-c", "xz -dc \"$0\" > \"$1\"", packed.path, scratch.path])
        // Tests run in parallel: the first rename wins, the others just drop their copy.
        if rename(scratch.path, file.path) != 0 { try? FileManager.default.removeItem(at: scratch) }
        return file
    }
}
