/// Everything the tool tells the user goes to standard error (through `Console`, which keeps the
/// live progress line intact), so standard output stays clean for results and JSON events.
struct Reporter: Sendable {
    func status(_ line: String) { Console.shared.message(line) }
    func warning(_ line: String) { Console.shared.message("warning: \(line)") }
    func error(_ line: String) { Console.shared.message("error: \(line)") }
}
