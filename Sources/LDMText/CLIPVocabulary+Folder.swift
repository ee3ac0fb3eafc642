import Foundation

extension CLIPVocabulary {
    /// Reads a diffusers / transformers CLIP `tokenizer/` folder: `vocab.json` and `merges.txt`
    /// (required), and the special tokens and `model_max_length` of `tokenizer_config.json`, overridden
    /// by `special_tokens_map.json` as transformers' `from_pretrained` does (both optional; without
    /// them the special tokens are CLIP's defaults, padding with <|endoftext|>).
    ///
    /// A `tokenizer.json` beside them is not read: the released Stable Diffusion folders have none,
    /// and the vocabulary and merges it would repeat are these.
    public convenience init(folder: String) throws {
        let base = URL(fileURLWithPath: folder)
        let vocabPath = base.appendingPathComponent("vocab.json").path
        let mergesPath = base.appendingPathComponent("merges.txt").path
        let configPath = base.appendingPathComponent("tokenizer_config.json").path
        let mapPath = base.appendingPathComponent("special_tokens_map.json").path

        let tokens = try Self.readVocabulary(vocabPath)
        let (merges, lines) = try Self.readMerges(mergesPath)
        let bpe = try BytePairEncoding(tokens: tokens, merges: merges, lines: lines, file: mergesPath)

        var special = CLIPSpecialTokens()
        var maxLength = Self.clipContextLength
        var declarations: [(content: String, normalized: Bool)] = []
        var declaredIn: [String: String] = [:]
        if let config = try Self.readOptionalObject(configPath) {
            // Tokens saved by newer transformers: {"49406": {"content": …, "normalized": …}, …}.
            if let added = config["added_tokens_decoder"] as? [String: Any] {
                for key in added.keys.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
                    if let entry = try Self.token(added[key], field: "added_tokens_decoder.\(key)", path: configPath) { declarations.append(entry) }
                }
            }
            try Self.apply(config, to: &special, declarations: &declarations, declaredIn: &declaredIn, path: configPath)
            if let value = config["model_max_length"] { maxLength = try Self.maxLength(value, path: configPath) }
        }
        if let map = try Self.readOptionalObject(mapPath) {
            try Self.apply(map, to: &special, declarations: &declarations, declaredIn: &declaredIn, path: mapPath)
        }
        // The reference adds start, end, unknown, pad in that order; the last declaration of a
        // content decides whether it is matched after normalization (tokenizers' `add_tokens`).
        var normalized: [String: Bool] = [:]
        for d in declarations { normalized[d.content] = d.normalized }
        special.normalized = Set(normalized.filter { $0.value }.keys)
        // A default special token missing from vocab.json is the vocabulary's fault.
        try self.init(count: tokens.count, tokens: tokens, bpe: bpe, special: special, maxLength: maxLength,
                      configFile: vocabPath, declaredIn: declaredIn)
    }

    /// The files of a `tokenizer/` folder held in memory (file name → contents, e.g. from a converted model's
    /// metadata), read as `init(folder:)` reads a folder; errors name `origin`, where they came from.
    public convenience init(files: [String: Data], origin: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-edit-tokenizer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, data) in files where !name.contains("/") { try data.write(to: folder.appendingPathComponent(name)) }
        } catch {
            throw TokenizerError.unreadable(path: origin, reason: "cannot stage its tokenizer files: \(error.localizedDescription)")
        }
        do { try self.init(folder: folder.path) } catch {
            throw TokenizerError.unreadable(path: origin, reason: "its tokenizer: \(error)".replacingOccurrences(of: folder.path + "/", with: ""))
        }
    }

    static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw TokenizerError.missingFile(path: path) }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TokenizerError.unreadable(path: path, reason: error.localizedDescription)
        }
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        let data = try read(path)
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
            throw TokenizerError.malformedJSON(path: path, reason: reason)
        }
        guard let object = value as? [String: Any] else { throw TokenizerError.malformedJSON(path: path, reason: "expected an object at the top level") }
        return object
    }

    static func readOptionalObject(_ path: String) throws -> [String: Any]? {
        FileManager.default.fileExists(atPath: path) ? try readJSON(path) : nil
    }

    /// `vocab.json`: {"token": id, …} with ids in 0 ..< 2^31.
    static func readVocabulary(_ path: String) throws -> [String: Int32] {
        let object = try readJSON(path)
        var tokens: [String: Int32] = [:]
        tokens.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = integer(value), id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.malformedJSON(path: path, reason: "the id of \(TokenizerError.quoted(token)) is \(value), not an integer from 0 to \(Int32.max - 1)")
            }
            tokens[token] = Int32(id)
        }
        return tokens
    }

    /// `merges.txt`: a `#version` line, then one merge per line, `left right` (tokenizers'
    /// `convert_merges_to_hashmap`: any other line is an error naming it).
    static func readMerges(_ path: String) throws -> ([(String, String)], [Int]) {
        guard let text = String(data: try read(path), encoding: .utf8) else {
            throw TokenizerError.unreadable(path: path, reason: "not UTF-8 text")
        }
        do {
            let merges = try MergesText(text)
            return (merges.pairs, merges.lines)
        } catch {
            throw TokenizerError.malformedMerge(path: path, line: error.line, text: error.text)
        }
    }

    /// The named special tokens of a config object, each a string or an `AddedToken` object.
    private static func apply(_ object: [String: Any], to special: inout CLIPSpecialTokens,
                              declarations: inout [(content: String, normalized: Bool)], declaredIn: inout [String: String],
                              path: String) throws {
        let fields: [(String, WritableKeyPath<CLIPSpecialTokens, String>)] =
            [("bos_token", \.start), ("eos_token", \.end), ("unk_token", \.unknown), ("pad_token", \.pad)]
        for (field, keyPath) in fields {
            guard let entry = try token(object[field], field: field, path: path) else { continue }
            special[keyPath: keyPath] = entry.content
            declarations.append(entry)
            declaredIn[entry.content] = path
        }
    }

    /// A token declaration: "text" (not normalized, as transformers makes a plain-string special
    /// token) or {"content": "text", "normalized": Bool} (`normalized` absent: false, for a special
    /// token). `nil` for an absent or null field.
    private static func token(_ value: Any?, field: String, path: String) throws -> (content: String, normalized: Bool)? {
        switch value {
        case nil, is NSNull: return nil
        case let text as String: return (text, false)
        case let object as [String: Any]:
            guard let content = object["content"] as? String else {
                throw TokenizerError.invalidValue(path: path, field: field, value: "\(object)", expected: "a token: a string or an object with a \"content\" string")
            }
            return (content, (object["normalized"] as? Bool) ?? false)
        default:
            throw TokenizerError.invalidValue(path: path, field: field, value: String(describing: value ?? "null"), expected: "a token: a string or an object with a \"content\" string")
        }
    }

    /// `model_max_length`: at least 3 positions (start, one token, end). Larger than CLIP's 77
    /// (transformers writes 1e30 for "no limit") means the text encoder's 77.
    private static func maxLength(_ value: Any, path: String) throws -> Int {
        if let n = value as? NSNumber, !isBoolean(n), n.doubleValue.isFinite, n.doubleValue >= 3, n.doubleValue.rounded() == n.doubleValue {
            return n.doubleValue >= Double(clipContextLength) ? clipContextLength : n.intValue
        }
        throw TokenizerError.invalidValue(path: path, field: "model_max_length", value: "\(value)", expected: "an integer of at least 3")
    }

    private static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber, !isBoolean(n) else { return nil }
        let d = n.doubleValue
        return d.rounded() == d && abs(d) < 1e15 ? Int(d) : nil
    }

    /// JSON `true`/`false` arrive as NSNumbers of their own class (`value is Bool` is also true of the
    /// numbers 0 and 1, so it cannot tell them apart).
    private static func isBoolean(_ n: NSNumber) -> Bool { type(of: n) == type(of: NSNumber(value: true)) }
}
