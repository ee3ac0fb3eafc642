import Foundation
import Testing
@testable import LDMText

/// The vocabulary compiled into the binary (Sources/LDMText/Vocabulary, Scripts/vocab/) against the
/// `vocab.json` the reference derives from the same merges.
@Suite struct EmbeddedVocabularyTests {
    @Test func sizeSpecialIDsAndSampledTokensMatchTheReference() throws {
        let fixture = try #require(TokenizerFixture.shared)
        let core = CLIPVocabulary.EmbeddedCore.shared
        #expect(core.tokens.count == fixture.vocabularySize)
        #expect(core.tokens.count == 49408)
        #expect(fixture.vocabularySample.count > 500)
        for sample in fixture.vocabularySample {
            #expect(core.tokens[sample.token] == sample.id, "\(sample.token.debugDescription)")
        }
        let sd1 = try CLIPVocabulary.embedded()
        #expect((sd1.startID, sd1.endID, sd1.padID, sd1.unknownID) == (49406, 49407, 49407, 49407))
        #expect(try CLIPVocabulary.embedded(.stableDiffusion2).padID == 0)
        #expect(sd1.maxLength == 77)
    }

    @Test func everyMergeResolvesToEarlierTokens() {
        let core = CLIPVocabulary.EmbeddedCore.shared
        #expect(EmbeddedCLIPVocabulary.merges.split(separator: "\n").count == EmbeddedCLIPVocabulary.mergeCount)
        #expect(core.bpe.merges.count == EmbeddedCLIPVocabulary.mergeCount)
        for (key, merge) in core.bpe.merges {
            let left = Int32(truncatingIfNeeded: key >> 32), right = Int32(truncatingIfNeeded: key)
            #expect(left >= 0 && right >= 0 && left < merge.result && right < merge.result)
        }
        #expect(!core.bpe.byteIDs.contains(-1) && !core.bpe.finalByteIDs.contains(-1))
    }

    @Test func carriesItsLicenceNotice() {
        #expect(EmbeddedCLIPVocabulary.licence.contains("Copyright (c) 2021 OpenAI"))
        #expect(EmbeddedCLIPVocabulary.licence.contains("The above copyright notice and this permission notice shall be included"))
        #expect(EmbeddedCLIPVocabulary.sourceSHA256.count == 64)
    }
}
