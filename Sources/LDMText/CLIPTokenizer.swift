/// CLIP's tokenizer, giving the ids transformers' `CLIPTokenizer` (5.24, the tokenizers-backed
/// class diffusers loads from a `tokenizer/` folder) gives for the same vocabulary and special
/// tokens: special tokens spelled in the prompt, NFC, white-space runs to one space, lower case,
/// CLIP's split pattern, byte-level BPE, then start and end tokens and padding to 77 positions.
///
/// Prompts longer than the text encoder's positions are refused (`TokenizerError.promptTooLong`),
/// not truncated as diffusers does nor chunked as the web UIs do: docs/text-encoders.md says why.
public struct CLIPTokenizer: Sendable {
    public let vocabulary: CLIPVocabulary

    public init(vocabulary: CLIPVocabulary) { self.vocabulary = vocabulary }

    /// The prompt's token ids without start, end or padding, however long.
    public func encode(_ prompt: String) -> [Int32] {
        var ids: [Int32] = []
        for segment in vocabulary.addedTokens.split(prompt) {
            switch segment {
            case .token(let id): ids.append(id)
            case .text(let normalized):
                for word in CLIPPreTokenizer.words(normalized) {
                    for id in vocabulary.bpe.encode(word) { ids.append(id < 0 ? vocabulary.unknownID : id) }
                }
            }
        }
        return ids
    }

    /// The ids the text encoder reads: start token, the prompt's tokens, end token, then the pad
    /// token up to `vocabulary.maxLength` (77) positions. Throws `promptTooLong` (with the count and
    /// the limit, both counting start and end) when the prompt does not fit.
    public func tokenize(_ prompt: String) throws -> TokenizedPrompt {
        let body = encode(prompt)
        let limit = vocabulary.maxLength
        let count = body.count + 2
        guard count <= limit else { throw TokenizerError.promptTooLong(tokenCount: count, limit: limit) }
        var ids = [vocabulary.startID]
        ids.reserveCapacity(limit)
        ids += body
        ids.append(vocabulary.endID)
        ids += repeatElement(vocabulary.padID, count: limit - count)
        return TokenizedPrompt(ids: ids, tokenCount: count)
    }
}

/// A tokenized prompt: `ids` has exactly the vocabulary's `maxLength` entries (77), of which the
/// first `tokenCount` are start, prompt and end tokens and the rest padding.
public struct TokenizedPrompt: Sendable, Equatable {
    public let ids: [Int32]
    public let tokenCount: Int

    /// Position of the end token (where CLIP's pooled output is read, for the families that use it).
    public var endPosition: Int { tokenCount - 1 }
}
