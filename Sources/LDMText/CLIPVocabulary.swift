/// A CLIP BPE vocabulary: token ids, ranked merges and special tokens, ready to tokenize with.
/// Immutable and shareable across threads (the BPE word cache inside is locked).
///
/// Either the vocabulary compiled into the binary (`embedded(_:)`: OpenAI CLIP's merges, MIT, see
/// `Vocabulary/PROVENANCE.md`) or a diffusers `tokenizer/` folder (`init(folder:)`).
public final class CLIPVocabulary: Sendable {
    /// Number of tokens (49408 for CLIP).
    public let count: Int
    public let startID: Int32
    public let endID: Int32
    public let padID: Int32
    public let unknownID: Int32
    /// Positions the text encoder reads, start and end tokens included (77 for CLIP).
    public let maxLength: Int
    public let specialTokens: CLIPSpecialTokens
    let bpe: BytePairEncoding
    let addedTokens: AddedTokenSplitter

    /// CLIP's context: 77 positions (`max_position_embeddings` of every Stable Diffusion text encoder).
    public static let clipContextLength = 77

    /// `declaredIn` names the file that declared a special token (else `configFile`), for the error
    /// when one has no id.
    init(count: Int, tokens: [String: Int32], bpe: BytePairEncoding, special: CLIPSpecialTokens, maxLength: Int,
         configFile: String, declaredIn: [String: String] = [:]) throws {
        func id(_ token: String) throws -> Int32 {
            guard let id = tokens[token] else {
                throw TokenizerError.missingToken(path: declaredIn[token] ?? configFile, token: token, line: 0)
            }
            return id
        }
        startID = try id(special.start)
        endID = try id(special.end)
        padID = try id(special.pad)
        unknownID = try id(special.unknown)
        var raw: [AddedTokenSplitter.Token] = [], normalized: [AddedTokenSplitter.Token] = []
        var seen = Set<String>()
        for content in special.contents where !content.isEmpty && seen.insert(content).inserted {
            let token = AddedTokenSplitter.Token(content: Array(content.utf8), id: try id(content))
            if special.normalized.contains(content) { normalized.append(token) } else { raw.append(token) }
        }
        addedTokens = AddedTokenSplitter(raw: raw, normalized: normalized)
        self.count = count
        self.bpe = bpe
        self.specialTokens = special
        self.maxLength = maxLength
    }

    /// The vocabulary compiled into the binary with a family's special tokens (Stable Diffusion 1's
    /// by default). Throws only for a special token that is not one of its tokens (the presets are).
    public static func embedded(_ special: CLIPSpecialTokens = .stableDiffusion1) throws -> CLIPVocabulary {
        let core = EmbeddedCore.shared
        return try CLIPVocabulary(count: core.tokens.count, tokens: core.tokens, bpe: core.bpe, special: special,
                                  maxLength: clipContextLength, configFile: "(embedded CLIP vocabulary)")
    }

    /// The embedded merges parsed into tables, on first use and once (docs/text-encoders.md gives
    /// the time); shared by every vocabulary made from them, BPE cache included.
    struct EmbeddedCore: Sendable {
        let tokens: [String: Int32]
        let bpe: BytePairEncoding

        static let shared = EmbeddedCore()

        private init() {
            // The token list of openai/CLIP's `simple_tokenizer.py`: the 256 byte symbols, the same
            // with </w>, one token per merge (its two parts joined), then the start and end tokens.
            var list = ByteLevelAlphabet.vocabularyOrder.map { String(Character(ByteLevelAlphabet.symbols[Int($0)])) }
            list += list.map { $0 + "</w>" }
            let firstMerged = list.count
            // The embedded text has no header and only well-formed lines (the script checks).
            let pairs = (try? MergesText(EmbeddedCLIPVocabulary.merges))?.pairs ?? []
            list += pairs.map { $0.0 + $0.1 }
            list += ["<|startoftext|>", "<|endoftext|>"]
            var tokens: [String: Int32] = [:]
            tokens.reserveCapacity(list.count)
            for (i, t) in list.enumerated() { tokens[t] = Int32(i) }
            // Merge k makes token firstMerged + k; its parts are earlier tokens. Built without the
            // folder path's checks (the data is fixed; `EmbeddedVocabularyTests` checks it against
            // the reference's vocab.json), so nothing here can fail at run time.
            var table: [UInt64: BytePairEncoding.Merge] = [:]
            table.reserveCapacity(pairs.count)
            for (k, (left, right)) in pairs.enumerated() {
                let key = BytePairEncoding.key(tokens[left] ?? -1, tokens[right] ?? -1)
                if table[key] == nil { table[key] = .init(rank: Int32(k), result: Int32(firstMerged + k)) }
            }
            let symbols = ByteLevelAlphabet.symbols.map { String(Character($0)) }
            self.tokens = tokens
            bpe = BytePairEncoding(byteIDs: symbols.map { tokens[$0] ?? -1 }, finalByteIDs: symbols.map { tokens[$0 + "</w>"] ?? -1 },
                                   merges: table)
        }
    }
}
