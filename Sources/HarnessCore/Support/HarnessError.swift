import Foundation

/// Why a command ended the way it did; each case maps to one documented exit code (README, "Exit codes").
public enum ExitStatus: Int32, Sendable {
    /// Every target ran to completion and no test failed.
    case passed = 0
    /// A test failed, a promise was violated, or a guest crashed or hung.
    case failures = 1
    /// The command line or an input file is wrong; nothing was booted.
    case usage = 2
    /// The host could not do its part: a missing package, libvirt, a download, a build.
    case infrastructure = 3
    /// Every target passed, but some reported de-facto findings only (README, "Verdicts"): an
    /// expectation the kernel breaks that no document promises, such as zeroing.
    case deFactoFindings = 4
    /// The user interrupted the run (Ctrl-C); what was gathered is kept.
    case interrupted = 130
}

/// An error the user can act on: one line saying what is wrong and how to fix it.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    /// The class of failure, which decides the exit code.
    public var status: ExitStatus
    /// The one-line message shown to the user.
    public var message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    /// Bad command-line input or input file.
    public static func usage(_ message: String) -> HarnessError { HarnessError(.usage, message) }
    /// A host-side failure: tools, packages, libvirt, network.
    public static func infrastructure(_ message: String) -> HarnessError { HarnessError(.infrastructure, message) }
    /// The run was cancelled by the user.
    public static let interrupted = HarnessError(.interrupted, "interrupted")
}
