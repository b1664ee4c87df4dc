import Foundation
import Testing
@testable import HarnessCore

/// An architecture is data: a profile and a recipe under `images/`. So no file under `Sources/`
/// may name one, not in code, a string, or a comment: a name there is a special case waiting to
/// break the next arch.
@Suite("architectures are data")
struct ArchNeutralityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Well-known architecture, CPU-family and platform names, whether or not a profile exists for them.
    static let knownNames: Set<String> = [
        "arm", "armhf", "armel", "armv7", "armv7l", "armmp", "arm64", "aarch64", "x86", "amd64", "i386", "i686",
        "riscv", "riscv64", "rv64", "ppc64", "ppc64el", "powerpc", "s390x", "mips", "mips64el", "loongarch64",
        "sparc", "intel", "amd", "smmu", "smmuv3", "cortex", "q35", "lpae", "vtd",
    ]

    /// Every name the profiles and recipes give an architecture, its machine, CPU and IOMMU.
    static func profileNames() throws -> Set<String> {
        let catalog = try ArchCatalog(layout: ProjectLayout(root: root))
        var names = Set<String>()
        for profile in catalog.profiles.values {
            names.formUnion([profile.name, profile.libvirtArch, profile.kbuildArch, profile.machine].map { $0.lowercased() })
            names.formUnion(tokens(of: profile.gnuTriplet).prefix(1))
            names.formUnion(tokens(of: profile.cpu ?? "").prefix(1))
            names.formUnion(profile.variants.values.compactMap { $0.iommu?.lowercased() })
        }
        names.formUnion(catalog.recipes.values.map { $0.debianArch.lowercased() })
        // Generic words that a profile also uses (the machine type `virt`, a bus) stay allowed.
        return names.subtracting(["virt", "pcie", "linux", "gnu"])
    }

    /// Words of a line: split at every non-alphanumeric character and at camelCase humps, lowercased.
    static func tokens(of line: String) -> [String] {
        var words: [String] = []
        for chunk in line.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            var word = ""
            var previous: Character?
            for character in chunk {
                if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
                    words.append(word.lowercased())
                    word = ""
                }
                word.append(character)
                previous = character
            }
            if !word.isEmpty { words.append(word.lowercased()) }
        }
        return words
    }

    @Test("the tokenizer splits identifiers the way the names hide in them")
    func tokenizer() {
        #expect(Self.tokens(of: "let onArm = x86_64 || \"qemu-system-aarch64\"") == ["let", "on", "arm", "x86", "64", "qemu", "system", "aarch64"])
        #expect(!Self.tokens(of: "warn alarm harmless").contains("arm"))
    }

    @Test("no file under Sources/ names an architecture")
    func sourcesNameNoArchitecture() throws {
        let forbidden = try Self.knownNames.union(Self.profileNames())
        #expect(forbidden.isSuperset(of: ["arm", "aarch64", "x86", "riscv64"]))
        let sources = Self.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { ["swift", "c", "h", "modulemap"].contains($0.pathExtension) } ?? []
        #expect(files.count > 50)
        var hits: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let named = Self.tokens(of: String(line)).filter(forbidden.contains)
                if !named.isEmpty {
                    hits.append("\(file.path.dropFirst(Self.root.path.count + 1)):\(number + 1) names \(named.joined(separator: ", "))")
                }
            }
        }
        #expect(hits.isEmpty, "\(hits.joined(separator: "\n"))")
    }
}
