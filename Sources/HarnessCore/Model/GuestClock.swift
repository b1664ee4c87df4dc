import Foundation

/// The clock a guest's own figures (`*_ns` in its KTAP lines) were measured on.
public struct GuestClock: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// QEMU's default: guest time follows the host's.
        case realtime
        /// Instruction counting (`-icount shift=N,sleep=off`): every guest instruction advances the
        /// virtual clock by 2^shift ns, and an idle guest's clock jumps to its next timer, so waits
        /// (edu completes a transfer 100 ms later) cost no wall time and figures repeat run to run.
        case icount
    }

    public var mode: Mode
    /// icount only: nanoseconds of virtual time per instruction, as a power of two.
    public var shift: Int?

    public static let realtime = GuestClock(mode: .realtime, shift: nil)

    public init(mode: Mode, shift: Int?) {
        self.mode = mode
        self.shift = mode == .icount ? (shift ?? 0) : nil
    }

    /// QEMU's `-icount` value, nil for real time.
    public var icountOption: String? {
        guard mode == .icount else { return nil }
        return "shift=\(shift ?? 0),sleep=off,align=off"
    }

    /// What an in-guest nanosecond is, for renderings: `real ns` or `virtual ns (icount shift 0)`.
    public var unit: String {
        mode == .realtime ? "real ns" : "virtual ns (icount shift \(shift ?? 0))"
    }
}
