import CImageCodecs

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP as a stop request rather than a kill (see ldm_interrupt.h):
/// the first signal is recorded and the batch stops at the next safe point (between sampling steps
/// or images); a second one removes the output file being written and exits at once.
public enum Interruption {
    /// Installs the handlers (once per process).
    public static func install() { ldm_interrupt_install() }

    /// The signal that asked to stop, or nil.
    public static var requestedSignal: Int32? {
        let signal = ldm_interrupt_requested()
        return signal == 0 ? nil : signal
    }

    /// Conventional exit status after stopping for `signal`: 128 + its number (130 for Ctrl-C).
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }
}
