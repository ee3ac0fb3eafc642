import Foundation
@testable import LDMText

/// `Fixtures/clip_tokenizer.json`, made by `Scripts/fixtures/make_tokenizer_fixtures.py`: prompts and
/// the ids transformers 5.24.0's `CLIPTokenizer` (tokenizers 0.23.3) gives them with the Stable
/// Diffusion 1 and 2 `tokenizer/` folders (start and end tokens, no padding).
struct TokenizerFixture: Decodable {
    let reference: String
    let prompts: [String]
    let sd1: [[Int32]]
    let sd2WhereDifferent: [String: [Int32]]
    let vocabularySize: Int
    let vocabularySample: [TokenID]

    struct TokenID: Decodable {
        let token: String
        let id: Int32
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            token = try c.decode(String.self)
            id = try c.decode(Int32.self)
        }
    }

    enum CodingKeys: String, CodingKey {
        case reference, prompts, sd1, sd2WhereDifferent = "sd2_where_different", vocabularySize = "vocabulary_size",
             vocabularySample = "vocabulary_sample"
    }

    var sd2: [[Int32]] { sd1.indices.map { sd2WhereDifferent[String($0)] ?? sd1[$0] } }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let shared: TokenizerFixture? = try? JSONDecoder().decode(
        TokenizerFixture.self, from: Data(contentsOf: folder.appendingPathComponent("clip_tokenizer.json")))

    /// Every prompt whose ids differ from `expected`, as readable lines (the tests print the first 20).
    static func mismatches(_ tokenizer: CLIPTokenizer, prompts: [String], expected: [[Int32]]) -> [String] {
        zip(prompts, expected).compactMap { prompt, ids in
            let got = [tokenizer.vocabulary.startID] + tokenizer.encode(prompt) + [tokenizer.vocabulary.endID]
            return got == ids ? nil : "\(prompt.debugDescription): got \(got), expected \(ids)"
        }
    }
}
