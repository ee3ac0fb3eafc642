import Foundation
import LDMImageIO
import LDMPipelines
import Testing
@testable import LDMEditing

/// The prompt part of a request (Stable Diffusion inpainting): normalisation, its encoding (so provenance and the
/// resume key carry it) and the editor's checks on the SD fixture model (LDMModelsTests/Fixtures/models/sd_inpaint_folder).
@Suite struct PromptRequestTests {
    static let sd = Fixture.models + "/sd_inpaint_folder"
    static let model = ModelReference(path: "sd/", sha256: String(repeating: "ab", count: 32), useEMA: true)

    func request(_ prompt: PromptRequest?) throws -> EditRequest {
        .inpaint(model: Self.model, sampling: try SamplingRequest(sampler: .pndm, steps: 10, seed: 3), prompt: prompt)
    }

    @Test func normalisedToWhatChangesPixels() throws {
        #expect(try PromptRequest(prompt: "a", negativePrompt: "b", guidance: 0.5) == PromptRequest(prompt: "a", guidance: 1))
        #expect(try PromptRequest(prompt: "a", negativePrompt: "", guidance: 7.5) == PromptRequest(prompt: "a"))
        #expect(throws: RequestError.guidance(-1)) { try PromptRequest(prompt: "a", guidance: -1) }
        #expect(throws: RequestError.self) { try PromptRequest(prompt: "a", guidance: .nan) }
    }

    @Test func encodedAndKeyedByEveryField() throws {
        let base = try request(PromptRequest(prompt: "a red wall", negativePrompt: "blur", guidance: 7.5))
        let text = String(decoding: try base.canonicalEncoding(), as: UTF8.self)
        #expect(text.contains(#""guidance":7.5"#) && text.contains(#""negative_prompt":"blur""#) && text.contains(#""prompt":"a red wall""#), "\(text)")
        #expect(try JSONDecoder().decode(EditRequest.self, from: base.canonicalEncoding()) == base)
        let key = try base.resumeKey(inputSHA256: "x", maskSHA256: "y")
        for other in [try request(PromptRequest(prompt: "a red wall!", negativePrompt: "blur")), try request(PromptRequest(prompt: "a red wall")),
                      try request(PromptRequest(prompt: "a red wall", negativePrompt: "blur", guidance: 5)), try request(nil)] {
            #expect(try other.resumeKey(inputSHA256: "x", maskSHA256: "y") != key)
        }
        // A prompt on an upscale request, or a negative prompt without a prompt, does not decode.
        #expect(throws: RequestError.self) {
            try JSONDecoder().decode(EditRequest.self, from: Data(#"{"task":"upscale","model":"m","model_sha256":"x","prompt":"a"}"#.utf8))
        }
        #expect(throws: RequestError.self) {
            try JSONDecoder().decode(EditRequest.self, from: Data(#"{"task":"inpaint","model":"m","model_sha256":"x","guidance":3}"#.utf8))
        }
    }

    @Test func theEditorWantsAPromptExactlyForTextModels() throws {
        let editor = try Editor(task: .inpaint, modelPath: Self.sd)
        let model = try #require(editor.model)
        #expect(editor.takesPrompt && editor.defaultSampler == .pndm)
        func request(_ prompt: PromptRequest?) throws -> EditRequest {
            .inpaint(model: model, sampling: try SamplingRequest(sampler: .ddim, steps: 2, seed: 1), prompt: prompt)
        }
        #expect(throws: RequestError.promptRequired) { try editor.check(try request(nil)) }
        let long = Array(repeating: "cat", count: 80).joined(separator: " ")
        #expect(throws: RequestError.promptTooLong(negative: true, tokenCount: 82, limit: 77)) {
            try editor.check(try request(PromptRequest(prompt: "a", negativePrompt: long)))
        }
        let image = try Fixture.image(width: 40, height: 24), mask = try Fixture.mask(width: 40, height: 24) { x, y in x > 10 && y > 6 }
        let result = try editor.run(try request(PromptRequest(prompt: "a red wall")), image: image, mask: mask)
        #expect(result.image.width == 40 && result.image.height == 24)

        let ldm = try Editor(task: .inpaint, modelPath: Fixture.inpaint)
        #expect(!ldm.takesPrompt && ldm.defaultSampler == .ddim)
        let ldmModel = try #require(ldm.model)
        #expect(throws: RequestError.promptNotAccepted) {
            try ldm.check(.inpaint(model: ldmModel, sampling: try SamplingRequest(steps: 2, seed: 1), prompt: try PromptRequest(prompt: "a")))
        }
    }
}
