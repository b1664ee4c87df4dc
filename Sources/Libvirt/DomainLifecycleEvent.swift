import CLibvirt

/// A domain lifecycle event (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`), as delivered to
/// `Connection.onDomainLifecycle`: the domain's name, the event type (`virDomainEventType`)
/// and its type-specific detail (`virDomainEvent*DetailType`).
public struct DomainLifecycleEvent: Sendable, Equatable, CustomStringConvertible {
    /// Mirrors libvirt's `virDomainEventType`.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// `VIR_DOMAIN_EVENT_DEFINED`
        case defined
        /// `VIR_DOMAIN_EVENT_UNDEFINED`
        case undefined
        /// `VIR_DOMAIN_EVENT_STARTED`
        case started
        /// `VIR_DOMAIN_EVENT_SUSPENDED`
        case suspended
        /// `VIR_DOMAIN_EVENT_RESUMED`
        case resumed
        /// `VIR_DOMAIN_EVENT_STOPPED`: the domain is no longer running (detail says why).
        case stopped
        /// `VIR_DOMAIN_EVENT_SHUTDOWN`: the guest shut down; `VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED`
        /// means it finished powering off.
        case shutdown
        /// `VIR_DOMAIN_EVENT_PMSUSPENDED`
        case pmsuspended
        /// `VIR_DOMAIN_EVENT_CRASHED`
        case crashed
        /// An event type this wrapper does not know (newer libvirt).
        case unknown(Int32)

        /// Maps a raw `virDomainEventType` value.
        public init(rawValue: Int32) {
            switch rawValue {
            case Int32(VIR_DOMAIN_EVENT_DEFINED.rawValue): self = .defined
            case Int32(VIR_DOMAIN_EVENT_UNDEFINED.rawValue): self = .undefined
            case Int32(VIR_DOMAIN_EVENT_STARTED.rawValue): self = .started
            case Int32(VIR_DOMAIN_EVENT_SUSPENDED.rawValue): self = .suspended
            case Int32(VIR_DOMAIN_EVENT_RESUMED.rawValue): self = .resumed
            case Int32(VIR_DOMAIN_EVENT_STOPPED.rawValue): self = .stopped
            case Int32(VIR_DOMAIN_EVENT_SHUTDOWN.rawValue): self = .shutdown
            case Int32(VIR_DOMAIN_EVENT_PMSUSPENDED.rawValue): self = .pmsuspended
            case Int32(VIR_DOMAIN_EVENT_CRASHED.rawValue): self = .crashed
            default: self = .unknown(rawValue)
            }
        }

        /// The raw `virDomainEventType` value.
        public var rawValue: Int32 {
            switch self {
            case .defined: return Int32(VIR_DOMAIN_EVENT_DEFINED.rawValue)
            case .undefined: return Int32(VIR_DOMAIN_EVENT_UNDEFINED.rawValue)
            case .started: return Int32(VIR_DOMAIN_EVENT_STARTED.rawValue)
            case .suspended: return Int32(VIR_DOMAIN_EVENT_SUSPENDED.rawValue)
            case .resumed: return Int32(VIR_DOMAIN_EVENT_RESUMED.rawValue)
            case .stopped: return Int32(VIR_DOMAIN_EVENT_STOPPED.rawValue)
            case .shutdown: return Int32(VIR_DOMAIN_EVENT_SHUTDOWN.rawValue)
            case .pmsuspended: return Int32(VIR_DOMAIN_EVENT_PMSUSPENDED.rawValue)
            case .crashed: return Int32(VIR_DOMAIN_EVENT_CRASHED.rawValue)
            case .unknown(let value): return value
            }
        }

        /// Lower-case name, as `virsh event` prints it (`"started"`, `"stopped"`, ...).
        public var description: String {
            switch self {
            case .defined: return "defined"
            case .undefined: return "undefined"
            case .started: return "started"
            case .suspended: return "suspended"
            case .resumed: return "resumed"
            case .stopped: return "stopped"
            case .shutdown: return "shutdown"
            case .pmsuspended: return "pmsuspended"
            case .crashed: return "crashed"
            case .unknown(let value): return "unknown(\(value))"
            }
        }
    }

    /// The domain's name (`virDomainGetName` on the event's domain).
    public let domainName: String
    /// The event type (`virDomainEventType`).
    public let kind: Kind
    /// The type-specific detail (`virDomainEventStoppedDetailType` for `.stopped`, and so on).
    public let detail: Int32

    /// Makes an event by hand (tests, replay); libvirt's callback builds the real ones.
    public init(domainName: String, kind: Kind, detail: Int32) {
        self.domainName = domainName
        self.kind = kind
        self.detail = detail
    }

    /// `VIR_DOMAIN_EVENT_SHUTDOWN` with `VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED`: the guest powered
    /// itself off (through ACPI, PSCI or SBI, whatever the machine offers).
    public var isShutdownFinished: Bool {
        kind == .shutdown && detail == Int32(VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED.rawValue)
    }

    /// `VIR_DOMAIN_EVENT_STOPPED` with any detail: the domain's emulator is gone.
    public var isStopped: Bool {
        kind == .stopped
    }

    /// Why the domain stopped, for a `.stopped` event (`virDomainEventStoppedDetailType`):
    /// `"shutdown"`, `"destroyed"`, `"crashed"`, `"migrated"`, `"saved"`, `"failed"`,
    /// `"from-snapshot"`, or `"unknown(N)"`; nil for any other kind of event.
    public var stoppedReason: String? {
        guard kind == .stopped else { return nil }
        switch detail {
        case Int32(VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN.rawValue): return "shutdown"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_DESTROYED.rawValue): return "destroyed"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_CRASHED.rawValue): return "crashed"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_MIGRATED.rawValue): return "migrated"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_SAVED.rawValue): return "saved"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_FAILED.rawValue): return "failed"
        case Int32(VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT.rawValue): return "from-snapshot"
        default: return "unknown(\(detail))"
        }
    }

    /// `"dmah-test-1: stopped (destroyed)"`, or `"NAME: KIND (detail N)"`.
    public var description: String {
        if let stoppedReason {
            return "\(domainName): \(kind) (\(stoppedReason))"
        }
        return "\(domainName): \(kind) (detail \(detail))"
    }
}
