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
        // An upscale request carries a prompt and a noise level (the x4 upscaler; the editor refuses them for other models);
        // a noise level on an inpaint request, or a negative prompt without a prompt, does not decode.
        let upscale = try JSONDecoder().decode(EditRequest.self, from: Data(
            #"{"task":"upscale","model":"m","model_sha256":"x","prompt":"a","guidance":9,"noise_level":40,"seed":1}"#.utf8))
        #expect(upscale.prompt == (try PromptRequest(prompt: "a", guidance: 9)) && upscale.noiseLevel == 40)
        #expect(try JSONDecoder().decode(EditRequest.self, from: upscale.canonicalEncoding()) == upscale)
        var quieter = upscale
        quieter.noiseLevel = 20
        #expect(try quieter.resumeKey(inputSHA256: "x", maskSHA256: nil) != (try upscale.resumeKey(inputSHA256: "x", maskSHA256: nil)))
        #expect(throws: RequestError.self) {
            try JSONDecoder().decode(EditRequest.self, from: Data(#"{"task":"inpaint","model":"m","model_sha256":"x","noise_level":20}"#.utf8))
        }
        #expect(throws: RequestError.self) {
            try JSONDecoder().decode(EditRequest.self, from: Data(#"{"task":"upscale","noise_level":20}"#.utf8))
        }
        #expect(throws: RequestError.self) {
            try JSONDecoder().decode(EditRequest.self, from: Data(#"{"task":"inpaint","model":"m","model_sha256":"x","guidance":3}"#.utf8))
        }
    }

    /// The x4 upscaler's editor takes a prompt (guidance 9 by default) and a noise level within 0 … 350; an LDM
    /// super-resolution editor takes neither.
    @Test func theUpscalerTakesTextAndANoiseLevel() throws {
        let editor = try Editor(task: .upscale, modelPath: Fixture.models + "/sd_upscale_folder")
        let model = try #require(editor.model)
        #expect(editor.takesPrompt && editor.noiseLevels == 0...350 && editor.defaultGuidance == 9 && editor.defaultNoiseLevel == 20)
        #expect(editor.defaultSampler == .ddim)
        let sampling = try SamplingRequest(steps: 1, seed: 1)
        let prompt = try PromptRequest(prompt: "a cat", guidance: 9)
        try editor.check(.upscale(model: model, sampling: sampling, prompt: prompt, noiseLevel: 350))
        #expect(throws: RequestError.noiseLevel(351, maximum: 350)) {
            try editor.check(.upscale(model: model, sampling: sampling, prompt: prompt, noiseLevel: 351))
        }
        #expect(throws: RequestError.promptRequired) { try editor.check(.upscale(model: model, sampling: sampling)) }
        let result = try editor.run(.upscale(model: model, sampling: sampling, prompt: prompt, noiseLevel: 30),
                                    image: try Fixture.image(width: 12, height: 8))
        #expect(result.image.width == 48 && result.image.height == 32)

        let sr = try Editor(task: .upscale, modelPath: Fixture.sr)
        let srModel = try #require(sr.model)
        #expect(!sr.takesPrompt && sr.noiseLevels == nil && sr.defaultNoiseLevel == nil)
        #expect(throws: RequestError.noiseLevelNotAccepted) { try sr.check(.upscale(model: srModel, sampling: sampling, noiseLevel: 20)) }
        #expect(throws: RequestError.promptNotAccepted) { try sr.check(.upscale(model: srModel, sampling: sampling, prompt: prompt)) }
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
        #expect(!ldm.takesPrompt && ldm.defaultSampling == SamplingDefault(sampler: .dpmpp2mKarras, steps: 15))
        let ldmModel = try #require(ldm.model)
        #expect(throws: RequestError.promptNotAccepted) {
            try ldm.check(.inpaint(model: ldmModel, sampling: try SamplingRequest(steps: 2, seed: 1), prompt: try PromptRequest(prompt: "a")))
        }
    }
}
