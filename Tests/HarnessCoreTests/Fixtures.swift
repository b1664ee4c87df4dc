import Foundation

/// Console logs recorded from real boots (see Fixtures/README.md for how each was made).
enum Fixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func console(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: folder.appendingPathComponent("console-\(name).log")), as: UTF8.self)
    }

    /// An input a fuzz target of Tests/Fuzz found a bug with, as the fuzzer wrote it (Fixtures/fuzz/README.md).
    static func fuzzInput(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: folder.appendingPathComponent("fuzz").appendingPathComponent(name)), as: UTF8.self)
    }

    /// Result lines of a suite, counted straight from the raw text with a regular expression, so the
    /// parser's counts are checked against something it did not produce.
    static func rawResultLines(_ console: String, indent: Int) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "^(\\[[ 0-9.]+\\] )?\(String(repeating: " ", count: indent))(not )?ok [0-9]+ ")
        return console.split(whereSeparator: \.isNewline).map(String.init).filter { line in
            pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
    }

    /// The numbers N of every `1..N` plan line at `indent`.
    static func rawPlans(_ console: String, indent: Int) -> [Int] {
        let pattern = try! NSRegularExpression(pattern: "^(\\[[ 0-9.]+\\] )?\(String(repeating: " ", count: indent))1\\.\\.([0-9]+)\\s*$")
        return console.split(whereSeparator: \.isNewline).map(String.init).compactMap { line in
            guard let match = pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let range = Range(match.range(at: 2), in: line) else { return nil }
            return Int(line[range])
        }
    }
}
