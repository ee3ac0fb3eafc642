/// Finds the special tokens spelled out in a prompt before anything else happens to it, as the
/// reference does (tokenizers' `AddedVocabulary::extract_and_normalize`): tokens not flagged
/// `normalized` are matched in the raw text; the text between them is normalized, and the
/// `normalized` ones are matched in that. Matches are leftmost, then longest, never overlapping.
///
/// So with Stable Diffusion 1's folder "a<|endoftext|>b" holds the end token as one id, and with
/// Stable Diffusion 2's (which pads with "!") every "!" in a prompt becomes id 0, exactly as
/// diffusers encodes it.
struct AddedTokenSplitter: Sendable {
    enum Segment: Equatable { case text(String), token(Int32) }

    struct Token: Sendable, Equatable {
        let content: [UInt8]
        let id: Int32
    }

    /// Matched in the raw text, and in the normalized text.
    let raw: [Token]
    let normalized: [Token]

    /// The prompt as normalized text runs and special-token ids, in order.
    func split(_ text: String) -> [Segment] {
        var out: [Segment] = []
        for part in Self.find(raw, in: text) {
            switch part {
            case .token: out.append(part)
            case .text(let t):
                out.append(contentsOf: Self.find(normalized, in: CLIPNormalizer.normalize(Substring(t))))
            }
        }
        return out
    }

    private static func find(_ tokens: [Token], in text: String) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(text)] }
        let bytes = Array(text.utf8)
        var out: [Segment] = []
        var start = 0, i = 0
        while i < bytes.count {
            var best: Token?
            for t in tokens where t.content.count <= bytes.count - i && t.content.count > (best?.content.count ?? 0)
                && bytes[i..<(i + t.content.count)].elementsEqual(t.content) {
                best = t
            }
            if let t = best {
                if start < i { out.append(.text(String(decoding: bytes[start..<i], as: UTF8.self))) }
                out.append(.token(t.id))
                i += t.content.count
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { out.append(.text(String(decoding: bytes[start..<bytes.count], as: UTF8.self))) }
        return out
    }
}
