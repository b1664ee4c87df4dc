import Foundation

/// How a boot ended, as the boot stage saw it.
public enum BootEnding: String, Codable, Sendable {
    /// The guest powered itself off after the suite.
    case poweredOff = "powered_off"
    /// The kernel panicked; the domain was destroyed after the panic had been printed.
    case panicked
    /// Nothing ended the boot within `--timeout`; the domain was destroyed.
    case timedOut = "timed_out"
    /// The user interrupted the run; the domain was destroyed.
    case interrupted
    /// The domain stopped without the guest powering off (QEMU died, or libvirt stopped it).
    case stoppedUnexpectedly = "stopped_unexpectedly"
}
