import Foundation
import Testing
@testable import LDMText

/// `CLIPVocabulary(folder:)` on the tiny hand-made folder (Fixtures/tiny_tokenizer: 12 tokens, 4 merges,
/// pad "!", 6 positions; the expected ids are transformers 5.24's for that folder) and every way a
/// folder can be wrong: each error names the file and the problem.
@Suite final class TokenizerFolderTests {
    static let tiny = TokenizerFixture.folder.appendingPathComponent("tiny_tokenizer").path
    /// This test's copies of the tiny folder, removed afterwards.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-tok-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    @Test func tinyFolderGivesTheReferenceIDs() throws {
        let vocabulary = try CLIPVocabulary(folder: Self.tiny)
        #expect(vocabulary.count == 12)
        #expect((vocabulary.startID, vocabulary.endID, vocabulary.padID, vocabulary.unknownID, vocabulary.maxLength) == (9, 10, 0, 10, 6))
        let tokenizer = CLIPTokenizer(vocabulary: vocabulary)
        // transformers 5.24: CLIPTokenizer.from_pretrained(folder)(prompt, padding="max_length", max_length=6)
        let cases: [(String, [Int32])] = [
            ("hello", [9, 8, 10, 0, 0, 0]),
            ("Hello!", [9, 8, 0, 10, 0, 0]),  // "!" is the pad token, hence special: id 0
            ("hex", [9, 5, 11, 10, 0, 0]),
            ("HELLO\thello", [9, 8, 8, 10, 0, 0]),
            ("oh", [9, 10, 10, 10, 0, 0]),  // "o" and "h</w>" are not in the vocabulary: unknown, one each
            ("hello<|endoftext|>", [9, 8, 10, 10, 0, 0]),
            ("hello hello hello hello", [9, 8, 8, 8, 8, 10]),
        ]
        for (prompt, ids) in cases {
            #expect(try tokenizer.tokenize(prompt).ids == ids, "\(prompt.debugDescription)")
        }
        #expect(throws: TokenizerError.promptTooLong(tokenCount: 7, limit: 6)) { try tokenizer.tokenize("hello hello hello hello hello") }
    }

    @Test func folderWithoutConfigsUsesCLIPsDefaults() throws {
        let folder = try copyOfTiny(removing: ["tokenizer_config.json"])
        let vocabulary = try CLIPVocabulary(folder: folder)
        #expect((vocabulary.padID, vocabulary.maxLength) == (10, 77))
        #expect(vocabulary.specialTokens == CLIPSpecialTokens())
    }

    @Test func missingFilesAreNamed() throws {
        for name in ["vocab.json", "merges.txt"] {
            let folder = try copyOfTiny(removing: [name])
            #expect(throws: TokenizerError.missingFile(path: folder + "/" + name)) { try CLIPVocabulary(folder: folder) }
        }
        #expect(throws: TokenizerError.missingFile(path: "/nonexistent/tokenizer/vocab.json")) { try CLIPVocabulary(folder: "/nonexistent/tokenizer") }
    }

    @Test func malformedVocabularies() throws {
        let cases: [(String, String)] = [
            ("{\"h\": 1, ", "truncated"),
            ("[\"h\", \"e\"]", "expected an object at the top level"),
            ("{\"h\": \"one\"}", "the id of \"h\" is one, not an integer from 0 to 2147483646"),
            ("{\"h\": -1}", "the id of \"h\" is -1, not an integer from 0 to 2147483646"),
            ("{\"h\": 1.5}", "the id of \"h\" is 1.5, not an integer from 0 to 2147483646"),
            ("{\"h\": true}", "the id of \"h\" is "),
        ]
        for (text, reason) in cases {
            let folder = try copyOfTiny(writing: ["vocab.json": text])
            let path = folder + "/vocab.json"
            do {
                _ = try CLIPVocabulary(folder: folder)
                Issue.record("\(text) was accepted")
            } catch let error as TokenizerError {
                guard case .malformedJSON(let p, let r) = error else { Issue.record("\(error)"); continue }
                #expect(p == path)
                if reason != "truncated" { #expect(r.hasPrefix(reason)) }
                #expect(error.description.hasPrefix("\(path): malformed JSON: "))
            }
        }
    }

    @Test func badMergeLinesAreNamedWithTheirLine() throws {
        let folder = try copyOfTiny(writing: ["merges.txt": "#version: 0.2\nh e\nl l l\nhe ll\n"])
        #expect(throws: TokenizerError.malformedMerge(path: folder + "/merges.txt", line: 3, text: "l l l")) { try CLIPVocabulary(folder: folder) }
        let blank = try copyOfTiny(writing: ["merges.txt": "#version: 0.2\nh e\n\nhe ll\n"])
        #expect(throws: TokenizerError.malformedMerge(path: blank + "/merges.txt", line: 3, text: "")) { try CLIPVocabulary(folder: blank) }
        let error = TokenizerError.malformedMerge(path: "m.txt", line: 3, text: "a\tb c")
        #expect(error.description == #"m.txt: line 3 is not a merge (two symbols separated by one space): "a\tb c""#)
    }

    @Test func tokensWithoutIDsAreNamed() throws {
        // A merge's part, a merge's result, a special token of the config.
        let part = try copyOfTiny(writing: ["merges.txt": "#version: 0.2\nh e\nq u\n"])
        #expect(throws: TokenizerError.missingToken(path: part + "/merges.txt", token: "q", line: 3)) { try CLIPVocabulary(folder: part) }
        let result = try copyOfTiny(writing: ["merges.txt": "#version: 0.2\nh e\nhe l\n"])
        #expect(throws: TokenizerError.missingToken(path: result + "/merges.txt", token: "hel", line: 3)) { try CLIPVocabulary(folder: result) }
        let pad = try copyOfTiny(writing: ["tokenizer_config.json": #"{"pad_token": "<pad>"}"#])
        let error = TokenizerError.missingToken(path: pad + "/tokenizer_config.json", token: "<pad>", line: 0)
        #expect(throws: error) { try CLIPVocabulary(folder: pad) }
        #expect(error.description == pad + #"/tokenizer_config.json: special token "<pad>" has no id in vocab.json"#)
        let mapped = try copyOfTiny(writing: ["special_tokens_map.json": #"{"unk_token": {"content": "<unk>"}}"#])
        #expect(throws: TokenizerError.missingToken(path: mapped + "/special_tokens_map.json", token: "<unk>", line: 0)) { try CLIPVocabulary(folder: mapped) }
    }

    @Test func configValues() throws {
        let short = try copyOfTiny(writing: ["tokenizer_config.json": #"{"model_max_length": 2}"#])
        #expect(throws: TokenizerError.invalidValue(path: short + "/tokenizer_config.json", field: "model_max_length", value: "2",
                                                    expected: "an integer of at least 3")) { try CLIPVocabulary(folder: short) }
        let unlimited = try copyOfTiny(writing: ["tokenizer_config.json": #"{"model_max_length": 1000000000000000019884624838656}"#])
        #expect(try CLIPVocabulary(folder: unlimited).maxLength == 77)
        let wrongType = try copyOfTiny(writing: ["tokenizer_config.json": #"{"bos_token": 5}"#])
        #expect(throws: TokenizerError.invalidValue(path: wrongType + "/tokenizer_config.json", field: "bos_token", value: "5",
                                                    expected: "a token: a string or an object with a \"content\" string")) { try CLIPVocabulary(folder: wrongType) }
        let broken = try copyOfTiny(writing: ["special_tokens_map.json": "{"])
        #expect(throws: (any Error).self) { try CLIPVocabulary(folder: broken) }
        do { _ = try CLIPVocabulary(folder: broken) } catch let error as TokenizerError {
            guard case .malformedJSON(let p, _) = error else { Issue.record("\(error)"); return }
            #expect(p == broken + "/special_tokens_map.json")
        }
        // special_tokens_map.json overrides tokenizer_config.json; an AddedToken object's "normalized" counts.
        let both = try copyOfTiny(writing: ["tokenizer_config.json": #"{"pad_token": "!"}"#,
                                            "special_tokens_map.json": #"{"pad_token": "<|endoftext|>", "bos_token": {"content": "<|startoftext|>", "normalized": true}}"#])
        let vocabulary = try CLIPVocabulary(folder: both)
        #expect(vocabulary.padID == 10 && vocabulary.specialTokens.normalized == ["<|startoftext|>"])
        #expect(CLIPTokenizer(vocabulary: vocabulary).encode("<|STARTOFTEXT|>!") == [9, 10])
    }

    @Test func tooLongMessageGivesCountAndLimit() {
        let error = TokenizerError.promptTooLong(tokenCount: 80, limit: 77)
        #expect(error.description == "the prompt is 80 tokens long with its start and end tokens; the text encoder reads at most 77, so it is 3 too many")
    }

    /// One vocabulary shared by many tasks (the BPE cache is locked): same ids as one at a time.
    @Test func concurrentUseGivesTheSameIDs() async throws {
        let fixture = try #require(TokenizerFixture.shared)
        let tokenizer = CLIPTokenizer(vocabulary: try .embedded())
        let prompts = Array(fixture.prompts.prefix(400))
        let results = await withTaskGroup(of: (Int, [Int32]).self) { group in
            for (i, p) in prompts.enumerated() { group.addTask { (i, tokenizer.encode(p)) } }
            var out = [[Int32]](repeating: [], count: prompts.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        for (i, ids) in results.enumerated() { #expect([49406] + ids + [49407] == fixture.sd1[i]) }
    }

    /// A copy of the tiny folder in a temporary directory, with files removed or replaced.
    private func copyOfTiny(removing: [String] = [], writing: [String: String] = [:]) throws -> String {
        let folder = scratch + "/\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Self.tiny, toPath: folder)
        for name in removing { try FileManager.default.removeItem(atPath: folder + "/" + name) }
        for (name, text) in writing { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return folder
    }
}
