import Foundation

/// One Debian kernel line (`bookworm`, `trixie`, `sid`): where its packages come from. Read from
/// `images/suites.json`; adding a line means adding an entry there.
public struct DebianSuite: Codable, Sendable, Equatable {
    /// The suite's code name, as `--debian` takes it and the archive names it.
    public var name: String
    /// Debian's release number (`12`), or `unstable`.
    public var release: String
    /// One-line apt sources (`deb URI SUITE COMPONENT...`) for this suite, written to a private
    /// sources list: the host's own apt configuration is never read or changed.
    public var sources: [String]
    /// apt options this suite's archive needs (`Acquire::Check-Valid-Until: false` for sid, whose
    /// mirrored Release file can outlive its Valid-Until date), for apt and mmdebstrap alike.
    public var aptOptions: [String: String]? = nil

    /// `aptOptions` as apt-get's `-oKEY=VALUE`.
    var aptCommandLineOptions: [String] {
        (aptOptions ?? [:]).sorted { $0.key < $1.key }.map { "-o\($0.key)=\($0.value)" }
    }

    /// `aptOptions` as mmdebstrap's `--aptopt`, which takes apt.conf syntax (`KEY "VALUE"`).
    var mmdebstrapOptions: [String] {
        (aptOptions ?? [:]).sorted { $0.key < $1.key }.map { "--aptopt=\($0.key) \"\($0.value)\"" }
    }
}

/// The kernel lines the harness knows, and which one a run gets when none is named.
public struct SuiteCatalog: Codable, Sendable {
    public var `default`: String
    public var suites: [DebianSuite]

    public init(layout: ProjectLayout) throws {
        let file = layout.suitesFile
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw HarnessError.usage("no Debian suite list: expected \(file.path)")
        }
        do {
            self = try JSONDecoder().decode(SuiteCatalog.self, from: data)
        } catch {
            throw HarnessError.usage("suite list \(file.path) is not valid: \(error)")
        }
        guard suites.contains(where: { $0.name == self.default }) else {
            throw HarnessError.usage("suite list \(file.path) names default '\(self.default)', which it does not list")
        }
    }

    public var names: [String] { suites.map(\.name) }

    public var defaultSuite: DebianSuite { suites.first { $0.name == self.default }! }

    /// The suite called `name`, or a usage error that lists the valid names.
    public func suite(named name: String) throws -> DebianSuite {
        guard let suite = suites.first(where: { $0.name == name }) else {
            throw HarnessError.usage("unknown Debian suite '\(name)'; valid: \(names.joined(separator: ", ")), all")
        }
        return suite
    }

    /// Expands `all` and validates each name, in the catalog's order.
    public func resolve(_ names: [String]) throws -> [DebianSuite] {
        if names.isEmpty { return [defaultSuite] }
        var wanted = Set<String>()
        for name in names {
            if name == "all" {
                wanted.formUnion(self.names)
            } else {
                wanted.insert(try suite(named: name).name)
            }
        }
        return suites.filter { wanted.contains($0.name) }
    }

    /// The host's own Debian suite (`VERSION_CODENAME` of /etc/os-release), if it is one of ours:
    /// that suite's modules build with the host's compilers, the others inside a build root.
    public static func hostSuiteName(osRelease: URL = URL(fileURLWithPath: "/etc/os-release")) -> String? {
        guard let text = try? String(contentsOf: osRelease, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VERSION_CODENAME=") {
            let value = line.dropFirst("VERSION_CODENAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
