/// Splits normalized text into the words BPE encodes, as the reference's pre-tokenizer does
/// (transformers 5.24 `tokenization_clip.py`): first CLIP's pattern, keeping what it matches and
/// dropping the rest (the white space),
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// then `ByteLevel(add_prefix_space=False)`, which splits each piece again with GPT-2's pattern
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// On CLIP's pieces the second split changes only the two special-token spellings (`<|endoftext|>`
/// becomes `<|`, `endoftext`, `|>`), which reach it when the text spells them in a way the
/// special-token pass does not match.
///
/// Both patterns are matched here by hand over Unicode scalars, alternatives tried in order at each
/// position as a backtracking regex engine does (not longest match): `'sun` is `'s` + `un`.
enum CLIPPreTokenizer {
    static func words(_ text: String) -> [Substring] {
        var out: [Substring] = []
        for piece in split(Substring(text), clip: true) {
            out.append(contentsOf: split(piece, clip: false))
        }
        return out
    }

    private static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array(("'" + $0).unicodeScalars) }
    private static let specialSpellings: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map { Array($0.unicodeScalars) }

    /// One pattern's matches, in order. `clip`: CLIP's pattern (special spellings, single numerals);
    /// otherwise GPT-2's (runs of numerals). Neither piece type ever holds white space here, so
    /// GPT-2's optional leading space and white-space alternatives never apply.
    static func split(_ text: Substring, clip: Bool) -> [Substring] {
        let scalars = text.unicodeScalars
        let indices = Array(scalars.indices) + [scalars.endIndex]
        let s = Array(scalars)
        var out: [Substring] = []
        var i = 0
        func starts(with literal: [Unicode.Scalar], at i: Int) -> Bool {
            i + literal.count <= s.count && zip(literal, s[i...]).allSatisfy { $0 == $1 }
        }
        func emit(_ from: Int, _ to: Int) { out.append(Substring(scalars[indices[from]..<indices[to]])) }
        scan: while i < s.count {
            if clip, let special = specialSpellings.first(where: { starts(with: $0, at: i) }) {
                emit(i, i + special.count); i += special.count; continue scan
            }
            if let c = contractions.first(where: { starts(with: $0, at: i) }) {
                emit(i, i + c.count); i += c.count; continue scan
            }
            let kind = Kind(s[i])
            switch kind {
            case .space:
                i += 1  // not matched by any alternative: dropped
            case .letter, .other:
                var j = i + 1
                while j < s.count, Kind(s[j]) == kind { j += 1 }
                emit(i, j); i = j
            case .number:
                var j = i + 1
                while !clip, j < s.count, Kind(s[j]) == .number { j += 1 }
                emit(i, j); i = j
            }
        }
        return out
    }

    enum Kind: Equatable {
        case letter, number, space, other

        /// `\p{L}`, `\p{N}`, `\s`, and everything else (`[^\s\p{L}\p{N}]`).
        init(_ scalar: Unicode.Scalar) {
            guard CLIPNormalizer.isKnownToReference(scalar) else { self = .other; return }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: self = .letter
            case .decimalNumber, .letterNumber, .otherNumber: self = .number
            default: self = CLIPNormalizer.isWhitespace(scalar) ? .space : .other
            }
        }
    }
}
