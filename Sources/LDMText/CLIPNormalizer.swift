import Foundation

/// The text clean-up before splitting, as the reference tokenizer's normalizer does it
/// (transformers 5.24 `tokenization_clip.py`: `normalizers.Sequence([NFC(), Replace(Regex(r"\s+"), " "),
/// Lowercase()])`): canonical composition, every run of white space to one space, then lower case.
///
/// Scalar by scalar, never by `Character`: grapheme clusters (an emoji with its skin tone, a letter
/// with its combining marks) are several scalars to the reference.
enum CLIPNormalizer {
    static func normalize(_ text: Substring) -> String {
        // NFC: Foundation's canonical composition (the reference uses the unicode-normalization crate).
        let composed = String(text).precomposedStringWithCanonicalMapping
        var out = String.UnicodeScalarView()
        var inWhitespace = false
        for scalar in composed.unicodeScalars {
            if isWhitespace(scalar) {
                if !inWhitespace { out.append(" ") }
                inWhitespace = true
                continue
            }
            inWhitespace = false
            // Full lower-case mapping of each scalar alone (tokenizers maps `char::to_lowercase` per
            // character: "İ" becomes "i̇", and no final-sigma rule applies).
            let lower = scalar.properties.lowercaseMapping
            if lower.unicodeScalars.count == 1, lower.unicodeScalars.first == scalar {
                out.append(scalar)
            } else {
                out.append(contentsOf: lower.unicodeScalars)
            }
        }
        return String(out)
    }

    /// Regex `\s` of the reference (Oniguruma, Unicode): the White_Space property. Not Python's
    /// `str.isspace` (which adds U+001C…U+001F), nor zero-width spaces (U+200B, U+FEFF).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }
}
