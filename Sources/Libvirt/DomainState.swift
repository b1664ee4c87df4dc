import CLibvirt

/// A domain's state and the reason for it, as `virDomainGetState` reports them.
public struct DomainState: Sendable, Equatable, CustomStringConvertible {
    /// Mirrors libvirt's `virDomainState`.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// `VIR_DOMAIN_NOSTATE`
        case noState
        /// `VIR_DOMAIN_RUNNING`
        case running
        /// `VIR_DOMAIN_BLOCKED`
        case blocked
        /// `VIR_DOMAIN_PAUSED`
        case paused
        /// `VIR_DOMAIN_SHUTDOWN`: shutting down.
        case shutdown
        /// `VIR_DOMAIN_SHUTOFF`
        case shutoff
        /// `VIR_DOMAIN_CRASHED`
        case crashed
        /// `VIR_DOMAIN_PMSUSPENDED`
        case pmsuspended
        /// A state this wrapper does not know (newer libvirt).
        case unknown(Int32)

        /// Maps a raw `virDomainState` value.
        public init(rawValue: Int32) {
            switch rawValue {
            case Int32(VIR_DOMAIN_NOSTATE.rawValue): self = .noState
            case Int32(VIR_DOMAIN_RUNNING.rawValue): self = .running
            case Int32(VIR_DOMAIN_BLOCKED.rawValue): self = .blocked
            case Int32(VIR_DOMAIN_PAUSED.rawValue): self = .paused
            case Int32(VIR_DOMAIN_SHUTDOWN.rawValue): self = .shutdown
            case Int32(VIR_DOMAIN_SHUTOFF.rawValue): self = .shutoff
            case Int32(VIR_DOMAIN_CRASHED.rawValue): self = .crashed
            case Int32(VIR_DOMAIN_PMSUSPENDED.rawValue): self = .pmsuspended
            default: self = .unknown(rawValue)
            }
        }

        /// Lower-case name, as `virsh domstate` prints it, minus spaces.
        public var description: String {
            switch self {
            case .noState: return "nostate"
            case .running: return "running"
            case .blocked: return "blocked"
            case .paused: return "paused"
            case .shutdown: return "shutdown"
            case .shutoff: return "shutoff"
            case .crashed: return "crashed"
            case .pmsuspended: return "pmsuspended"
            case .unknown(let value): return "unknown(\(value))"
            }
        }
    }

    /// The state (`virDomainState`).
    public let kind: Kind
    /// The state-specific reason (`virDomainRunningReason`, `virDomainPausedReason`, ...).
    public let reason: Int32

    /// Makes a state by hand; `Domain.state()` builds the real ones.
    public init(kind: Kind, reason: Int32) {
        self.kind = kind
        self.reason = reason
    }

    /// `"paused (reason 1)"`.
    public var description: String {
        "\(kind) (reason \(reason))"
    }
}
