import ArgumentParser

/// Everything the tool tells the user goes to standard error (through `Console`, which keeps the
/// live progress line intact), so standard output stays clean for results and JSON events.
struct Reporter: Sendable {
    func status(_ line: String) { Console.shared.message(line) }
    func warning(_ line: String) { Console.shared.message("warning: \(line)") }
    func error(_ line: String) { Console.shared.message("error: \(line)") }

    /// `body`'s value; an error it throws is reported in the command line's words (`UserMessage`)
    /// and ends the command with exit status 1 (setup failures: no model, a broken model, ...).
    func orExit<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            self.error(UserMessage.describe(error))
            throw ExitCode(1)
        }
    }
}
