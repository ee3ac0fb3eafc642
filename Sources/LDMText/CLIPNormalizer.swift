import Foundation

/// The text clean-up before splitting, as the reference tokenizer's normalizer does it
/// (transformers 5.24 `tokenization_clip.py`: `normalizers.Sequence([NFC(), Replace(Regex(r"\s+"), " "),
/// Lowercase()])`): canonical composition, every run of white space to one space, then lower case.
///
/// Scalar by scalar, never by `Character`: grapheme clusters (an emoji with its skin tone, a letter
/// with its combining marks) are several scalars to the reference.
enum CLIPNormalizer {
    static func normalize(_ text: Substring) -> String {
        let composed = nfc(String(text))
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
            // character: "İ" becomes "i̇", and no final-sigma rule applies). Rust's tables are Unicode
            // 17.0 like ours, so no version gate here (U+A7D2 becomes U+A7D3, a letter since 14.0).
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            if lower.count == 1 && lower.first == scalar {
                out.append(scalar)
            } else {
                out.append(contentsOf: lower)
            }
        }
        return String(out)
    }

    /// NFC (the reference uses the unicode-normalization crate). Foundation's composition, then a
    /// repair: it leaves non-starters out of canonical order when several come from decompositions
    /// (" \u{F73}\u{F73}" gives F71 F72 F71 F72, not F71 F71 F72 F72; the stdlib's `_nfcCodeUnits`
    /// does the same), so such runs are sorted by combining class and composed again.
    static func nfc(_ text: String) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        var scalars = Array(composed.unicodeScalars)
        var reordered = false
        var i = 0
        while i < scalars.count {
            guard scalars[i].properties.canonicalCombiningClass != .notReordered else { i += 1; continue }
            var j = i
            while j < scalars.count, scalars[j].properties.canonicalCombiningClass != .notReordered { j += 1 }
            let run = scalars[i..<j]
            let sorted = run.enumerated().sorted {
                ($0.element.properties.canonicalCombiningClass.rawValue, $0.offset) < ($1.element.properties.canonicalCombiningClass.rawValue, $1.offset)
            }.map(\.element)
            if !sorted.elementsEqual(run) {
                scalars.replaceSubrange(i..<j, with: sorted)
                reordered = true
            }
            i = j
        }
        guard reordered else { return composed }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view).precomposedStringWithCanonicalMapping
    }

    /// Regex `\s` of the reference (Oniguruma, Unicode): the White_Space property. Not Python's
    /// `str.isspace` (which adds U+001C…U+001F), nor zero-width spaces (U+200B, U+FEFF).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace && isKnownToReference(scalar) }

    /// Whether the scalar was assigned by Unicode 16.0, the version of the reference's regex classes
    /// (tokenizers 0.23.3's Oniguruma: `\s`, `\p{L}`, `\p{N}`). Swift 6.3's tables are Unicode 17.0;
    /// to the reference's patterns the 4,655 scalars 17.0 added are unassigned (other):
    /// `ExhaustiveScalarTests` found exactly those differing, and nothing of 16.0.
    static func isKnownToReference(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 16 || (age.major == 16 && age.minor == 0)
    }
}
