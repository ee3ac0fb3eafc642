/// What can go wrong loading a CLIP vocabulary or tokenizing a prompt. File errors name the file;
/// the prompt error gives the count and the limit. Library words only: the CLI adds its hints.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file the tokenizer folder must hold (`vocab.json`, `merges.txt`) is absent.
    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    /// Not JSON, or JSON of the wrong shape (`vocab.json` must map strings to ids).
    case malformedJSON(path: String, reason: String)
    /// A `merges.txt` line that is not two space-separated symbols (1-based line number, as written).
    case malformedMerge(path: String, line: Int, text: String)
    /// A token the files need has no id in `vocab.json`: a merge's part or result (with its
    /// `merges.txt` line), a special token named in the configuration (line 0).
    case missingToken(path: String, token: String, line: Int)
    /// A configuration value outside what the tokenizer accepts.
    case invalidValue(path: String, field: String, value: String, expected: String)
    /// The prompt needs more positions than the text encoder has. `tokenCount` includes the start
    /// and end tokens, as `limit` does.
    case promptTooLong(tokenCount: Int, limit: Int)

    public var description: String {
        switch self {
        case .missingFile(let p): "\(p): no such file (a CLIP tokenizer folder holds vocab.json and merges.txt)"
        case .unreadable(let p, let r): "\(p): cannot read: \(r)"
        case .malformedJSON(let p, let r): "\(p): malformed JSON: \(r)"
        case .malformedMerge(let p, let line, let text):
            "\(p): line \(line) is not a merge (two symbols separated by one space): \(Self.quoted(text))"
        case .missingToken(let p, let token, let line):
            line > 0
                ? "\(p): line \(line): \(Self.quoted(token)) has no id in vocab.json"
                : "\(p): special token \(Self.quoted(token)) has no id in vocab.json"
        case .invalidValue(let p, let field, let value, let expected): "\(p): \(field) = \(value); expected \(expected)"
        case .promptTooLong(let count, let limit):
            "the prompt is \(count) tokens long with its start and end tokens; the text encoder reads at most \(limit), so it is \(count - limit) too many"
        }
    }

    /// Shows control characters and long texts readably in a message.
    static func quoted(_ text: String) -> String {
        let shown = text.unicodeScalars.prefix(80).map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
        return "\"\(shown)\(text.unicodeScalars.count > 80 ? "…" : "")\""
    }
}
