/// The byte-level BPE alphabet: every UTF-8 byte stands for one printable character, so that the
/// merges never see spaces or control characters (`bytes_to_unicode` in openai/CLIP's
/// `simple_tokenizer.py` and transformers' `tokenization_clip.py`; tokenizers' `ByteLevel`).
enum ByteLevelAlphabet {
    /// `symbols[b]`: the character standing for byte `b`. The printable ranges '!'…'~', '¡'…'¬',
    /// '®'…'ÿ' stand for themselves; the other 68 bytes take U+0100… in byte order.
    static let symbols: [Unicode.Scalar] = {
        var printable = [Bool](repeating: false, count: 256)
        for range in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { for b in range { printable[b] = true } }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if printable[b] {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next)!  // 256…323: always valid scalars
                next += 1
            }
        }
        return table
    }()

    /// The vocabulary's order for its first 256 entries: the printable bytes first, then the rest
    /// (`bytes_to_unicode().values()` order in `simple_tokenizer.py`). Entry k is a byte value.
    static let vocabularyOrder: [UInt8] = {
        let printable = (0..<256).filter { symbols[$0].value < 256 }
        let rest = (0..<256).filter { symbols[$0].value >= 256 }
        return (printable + rest).map { UInt8($0) }
    }()

    /// The word as byte-level symbols, one string per UTF-8 byte.
    static func symbols(of word: Substring) -> [String] {
        word.utf8.map { String(Character(symbols[Int($0)])) }
    }
}
