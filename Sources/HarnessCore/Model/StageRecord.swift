import Foundation

/// The pipeline's stages, in the order a target passes through them (DESIGN.md, "One run").
public enum StageName: String, Codable, Sendable, CaseIterable {
    case plan, provision, build, boot, collect, report
}

/// What one stage did for one target: its status, how long it took, and why it failed if it did.
public struct StageRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed, skipped }

    public var stage: StageName
    public var status: Status
    /// Wall-clock seconds on the host.
    public var seconds: Double
    /// Why the stage failed, or a short note on what it did (e.g. "cached").
    public var detail: String?
}
