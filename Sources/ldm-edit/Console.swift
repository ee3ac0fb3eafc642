import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one writer to the terminal. Messages go to standard error; on a terminal a live progress
/// line sits below them and is cleared before, and redrawn after, every message so the two never
/// garble each other. JSON events go to standard output, one per line.
final class Console: @unchecked Sendable {
    static let shared = Console()

    let standardErrorIsTerminal = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    private var live: String?

    /// A message line (status, warning, error).
    func message(_ line: String) {
        lock.withLock {
            var text = live == nil ? "" : "\r\u{1B}[2K"
            text += line + "\n"
            if let live { text += live }
            write(STDERR_FILENO, text)
        }
    }

    /// Replaces the live line (terminals only; callers check `standardErrorIsTerminal`).
    func showLive(_ line: String) {
        lock.withLock {
            // Longer than the terminal, the line would wrap and "\r" could no longer erase it.
            let fitted = Self.terminalWidth().map { String(line.prefix(max(20, $0 - 1))) } ?? line
            live = fitted
            write(STDERR_FILENO, "\r\u{1B}[2K" + fitted)
        }
    }

    /// Removes the live line, leaving the cursor at the start of an empty line.
    func endLive() {
        lock.withLock {
            guard live != nil else { return }
            live = nil
            write(STDERR_FILENO, "\r\u{1B}[2K")
        }
    }

    /// One JSON Lines event on standard output, flushed at once so a reading program sees it.
    func event(_ json: String) {
        lock.withLock { write(STDOUT_FILENO, json + "\n") }
    }

    private func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }  // a closed pipe: nothing more can be said
            bytes = bytes.dropFirst(n)
        }
    }

    /// Columns of the terminal on standard error; nil when it is not a terminal.
    private static func terminalWidth() -> Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
