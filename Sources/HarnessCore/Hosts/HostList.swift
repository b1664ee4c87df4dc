import Foundation

/// One libvirt host a run may boot guests on: its URI and what the user said about it.
public struct HostEntry: Sendable, Equatable {
    public var uri: String
    /// Guests at once; nil lets the harness derive it from the host's CPUs and memory.
    public var capacity: Int?
    /// The storage pool that receives the kernels and initramfs (`pool=`); nil uses the harness's own.
    public var pool: String?

    public init(uri: String, capacity: Int? = nil, pool: String? = nil) {
        self.uri = uri
        self.capacity = capacity
        self.pool = pool
    }
}

/// The hosts of a run: each `--connect URI` and each line of a `--hosts FILE`.
///
/// A hosts file has one host per line, its URI then optional `key=value` words; `#` starts a comment:
///
///     qemu+ssh://root@lab1.example.org/system  capacity=8
///     qemu+tls://lab2.example.org/system       capacity=4  pool=dma-harness
public enum HostList {
    /// The keys a hosts-file line may carry after its URI.
    public static let keys = ["capacity", "pool"]

    /// Reads a `--hosts` file.
    public static func load(_ path: String) throws -> [HostEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError.usage("cannot read the hosts file \(path): give a file with one libvirt URI per line")
        }
        return try parse(hostsFile: String(decoding: data, as: UTF8.self), named: path)
    }

    public static func parse(hostsFile text: String, named file: String) throws -> [HostEntry] {
        var entries: [HostEntry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let uri = words.first else { continue }
            let place = "\(file):\(index + 1)"
            try checkURI(uri, place: place)
            var entry = HostEntry(uri: uri)
            for word in words.dropFirst() {
                let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, !pair[1].isEmpty else {
                    throw HarnessError.usage("\(place): '\(word)' is not key=value; the keys are \(keys.joined(separator: ", "))")
                }
                switch pair[0] {
                case "capacity":
                    guard let capacity = Int(pair[1]), capacity >= 1 else {
                        throw HarnessError.usage("\(place): capacity must be a whole number of guests, 1 or more (got '\(pair[1])')")
                    }
                    entry.capacity = capacity
                case "pool":
                    entry.pool = pair[1]
                default:
                    throw HarnessError.usage("\(place): unknown key '\(pair[0])'; the keys are \(keys.joined(separator: ", "))")
                }
            }
            entries.append(entry)
        }
        guard !entries.isEmpty else {
            throw HarnessError.usage("\(file) lists no host: write one libvirt URI per line, e.g. qemu+ssh://root@lab1.example.org/system capacity=8")
        }
        return entries
    }

    /// Each `--connect` URI, then each host of the `--hosts` file; a URI named twice is one host.
    public static func combine(connectURIs: [String], hostsFile: [HostEntry]) throws -> [HostEntry] {
        for uri in connectURIs { try checkURI(uri, place: "--connect") }
        var seen = Set<String>()
        return (connectURIs.map { HostEntry(uri: $0) } + hostsFile).filter { seen.insert($0.uri).inserted }
    }

    static func checkURI(_ uri: String, place: String) throws {
        guard let scheme = uri.range(of: ":/")?.lowerBound, scheme > uri.startIndex,
              uri[..<scheme].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else {
            throw HarnessError.usage("\(place): '\(Redaction.uri(uri))' is not a libvirt URI (e.g. qemu:///system, qemu+ssh://root@host/system, qemu+tcp://10.0.0.2/system)")
        }
    }
}

/// Credentials in a URI never reach a report or a log: a password in its user part and the value
/// of any query parameter that names a secret are replaced.
public enum Redaction {
    static let hidden = "REDACTED"
    static let secretWords = ["pass", "secret", "token", "credential"]

    public static func uri(_ text: String) -> String {
        guard text.contains("://"), var components = URLComponents(string: text) else { return text }
        var changed = false
        if components.password != nil {
            components.password = hidden
            changed = true
        }
        if let items = components.queryItems {
            let redacted = items.map { item -> URLQueryItem in
                let name = item.name.lowercased()
                guard secretWords.contains(where: name.contains) else { return item }
                return URLQueryItem(name: item.name, value: hidden)
            }
            if redacted != items {
                components.queryItems = redacted
                changed = true
            }
        }
        return changed ? (components.string ?? text) : text
    }

    /// A command line with every URI in it redacted (`--connect`'s value, or `--connect=URI`).
    public static func commandLine(_ words: [String]) -> [String] {
        words.map { word in
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                return String(word[...equals]) + uri(String(word[word.index(after: equals)...]))
            }
            return uri(word)
        }
    }
}
