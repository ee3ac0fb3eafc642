import Foundation

/// Everything the tool tells the user goes to standard error, so standard output stays clean for
/// results that later subcommands may print.
struct Reporter: Sendable {
    func status(_ line: String) { emit(line) }
    func warning(_ line: String) { emit("warning: \(line)") }
    func error(_ line: String) { emit("error: \(line)") }

    private func emit(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
