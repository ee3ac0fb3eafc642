import Foundation
import Testing
@testable import LDMText

/// Every fixture prompt (≈1,200: Unicode, accents, emoji sequences, CJK, Arabic, combining marks, white
/// space runs, control characters, HTML entities, special-token spellings, very long, empty) gives
/// exactly the reference's ids, through the embedded vocabulary and through a real-format folder.
@Suite struct ReferenceParityTests {
    @Test func embeddedStableDiffusion1MatchesTheReference() throws {
        let fixture = try #require(TokenizerFixture.shared)
        #expect(fixture.prompts.count >= 1000)
        let tokenizer = CLIPTokenizer(vocabulary: try .embedded(.stableDiffusion1))
        let bad = TokenizerFixture.mismatches(tokenizer, prompts: fixture.prompts, expected: fixture.sd1)
        #expect(bad.isEmpty, "\(bad.count) prompts differ from \(fixture.reference):\n\(bad.prefix(20).joined(separator: "\n"))")
    }

    @Test func embeddedStableDiffusion2MatchesTheReference() throws {
        let fixture = try #require(TokenizerFixture.shared)
        #expect(fixture.sd2WhereDifferent.count > 50)  // every "!" is the pad token there
        let tokenizer = CLIPTokenizer(vocabulary: try .embedded(.stableDiffusion2))
        let bad = TokenizerFixture.mismatches(tokenizer, prompts: fixture.prompts, expected: fixture.sd2)
        #expect(bad.isEmpty, "\(bad.count) prompts differ from \(fixture.reference):\n\(bad.prefix(20).joined(separator: "\n"))")
    }

    @Test(arguments: ["sd1", "sd2"])
    func realFormatFolderMatchesTheReference(family: String) throws {
        let fixture = try #require(TokenizerFixture.shared)
        let folder = try RealFormatFolder.write(configs: family + "_tokenizer")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let vocabulary = try CLIPVocabulary(folder: folder)
        #expect(vocabulary.count == 49408)
        #expect(vocabulary.specialTokens == (family == "sd1" ? .stableDiffusion1 : .stableDiffusion2))
        let bad = TokenizerFixture.mismatches(CLIPTokenizer(vocabulary: vocabulary), prompts: fixture.prompts,
                                              expected: family == "sd1" ? fixture.sd1 : fixture.sd2)
        #expect(bad.isEmpty, "\(bad.count) prompts differ:\n\(bad.prefix(20).joined(separator: "\n"))")
    }

    /// Padded to 77 with the family's pad token, or refused with the count and the limit.
    @Test func tokenizePadsOrRefuses() throws {
        let fixture = try #require(TokenizerFixture.shared)
        for (vocabulary, expected, pad) in [(try CLIPVocabulary.embedded(), fixture.sd1, Int32(49407)),
                                            (try CLIPVocabulary.embedded(.stableDiffusion2), fixture.sd2, Int32(0))] {
            let tokenizer = CLIPTokenizer(vocabulary: vocabulary)
            var refused = 0, fitted = 0
            for (prompt, ids) in zip(fixture.prompts, expected) {
                if ids.count <= 77 {
                    let t = try tokenizer.tokenize(prompt)
                    #expect(t.ids == ids + Array(repeating: pad, count: 77 - ids.count))
                    #expect(t.tokenCount == ids.count && t.ids[t.endPosition] == 49407)
                    fitted += 1
                } else {
                    #expect(throws: TokenizerError.promptTooLong(tokenCount: ids.count, limit: 77)) { try tokenizer.tokenize(prompt) }
                    refused += 1
                }
            }
            #expect(refused > 20 && fitted > 900)
        }
    }
}

/// A diffusers-format `tokenizer/` folder in a temporary directory: `vocab.json` and `merges.txt` as
/// transformers writes them, from the embedded vocabulary, beside a fixture's two config files.
enum RealFormatFolder {
    static func write(configs: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clip-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let core = CLIPVocabulary.EmbeddedCore.shared
        // In id order, as transformers writes it (JSONSerialization takes seconds over 49,408 keys).
        // Byte-level symbols are printable: only '"' and '\\' need escaping.
        let entries = core.tokens.sorted { $0.value < $1.value }.map { token, id in
            "\"" + token.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\": \(id)"
        }
        try ("{" + entries.joined(separator: ", ") + "}\n").write(to: folder.appendingPathComponent("vocab.json"), atomically: true, encoding: .utf8)
        try ("#version: 0.2\n" + EmbeddedCLIPVocabulary.merges + "\n").write(to: folder.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: TokenizerFixture.folder.appendingPathComponent(configs).appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        return folder.path
    }
}
