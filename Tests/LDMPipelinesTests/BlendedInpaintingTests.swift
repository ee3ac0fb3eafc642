import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Blended inpainting with a Stable Diffusion text-to-image (4-channel) U-Net against diffusers'
/// StableDiffusionInpaintPipeline running the same U-Net (Scripts/fixtures/make_sd_inpaint_fixtures.py: the U-Net in
/// LDMModelsTests/Fixtures/models/sd_blend_unet, put here into a copy of sd_inpaint_folder in place of its
/// 9-channel one; the references in Fixtures/sd_blend_expected.safetensors, 6 samplers, 10 steps, guidance 7.5).
/// Bounds as StableDiffusionInpaintingParityTests (docs/testing.md): the image's latents as the model parity,
/// initial latents 1e-6 relative, the float image 1e-4, 8-bit ±1 on at most 0.1 % of the values.
@Suite struct BlendedInpaintingTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd_blend_expected.safetensors").path
    static let cases = ["ddim", "euler-a-negative", "dpmpp-2m", "dpmpp-2m-karras", "euler", "pndm"]

    /// sd_inpaint_folder with the text-to-image U-Net as unet/ (a temporary copy, removed by the caller).
    static func blendFolder() throws -> String {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sd-blend-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: SDInpaintFixture.folder, toPath: copy)
        try FileManager.default.removeItem(atPath: copy + "/unet")
        try FileManager.default.copyItem(atPath: SDInpaintFixture.models + "/sd_blend_unet", toPath: copy + "/unet")
        return copy
    }

    /// Loaded once; the temporary folder is removed once the weights are in memory.
    static let model = Result { () throws -> (ModelWeights, LatentDiffusionModel) in
        let folder = try blendFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weights = try ModelWeights.open(folder)
        return (weights, try LatentDiffusionModel(weights: weights))
    }

    @Test(arguments: cases)
    func matchesDiffusers(_ name: String) throws {
        let reference = try SafetensorsFile(path: Self.reference)
        let spec = try SDInpaintFixture.describe(name, in: reference)
        let (weights, model) = try Self.model.get()
        #expect(model.inpaintingMethod == .blended && weights.unet.inChannels == 4)
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let text = try #require(pipeline.model.text)
        let (image, mask) = try SDInpaintFixture.inputs(try SafetensorsFile(path: SDInpaintFixture.reference))
        let (w, h) = (image.width, image.height)
        let prompt = TextPrompt(spec.prompt, negativePrompt: spec.negative_prompt, guidance: 7.5)
        let settings = SamplingSettings(sampler: try #require(SamplerKind(rawValue: spec.sampler)), steps: 10, seed: spec.seed, text: prompt)
        let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: pipeline.sizeMultiple)
        let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask), multiple: pipeline.sizeMultiple)
        let run = try pipeline.blendedStableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                                      callbacks: .init(), workspace: Workspace())

        let log = { StableDiffusionInpaintingParityTests.verbose("blend " + $0) }
        try SDInpaintFixture.check(reference, name, "image_latents", run.encodedLatents, bound: 2e-5, log: log)
        try SDInpaintFixture.check(reference, name, "initial_latents", run.initialLatents, bound: 1e-6, log: log)
        // The public run dispatches to the blended path.
        try SDInpaintFixture.checkImage(reference, name, decoded: run.decoded, pipeline: pipeline, image: image, mask: mask, settings: settings, log: log)
    }

    /// Blended inpainting (and coarse-to-fine guidance) noise the known latents forward with the sampler: every
    /// sampler here can, DDPM at √ᾱ_t and √(1 − ᾱ_t) of its own float64 products (scheduling_ddpm.py `add_noise`).
    @Test func everySamplerNoisesForward() throws {
        let (weights, _) = try Self.model.get()
        let setup = SamplingSetup(weights, defaultSetAlphaToOne: false)
        for kind in SamplerKind.allCases {
            #expect(setup.sampler(SamplingSettings(sampler: kind, steps: 4, seed: 0)) is any ForwardNoisingSampler, "\(kind)")
        }
        let ddpm = DDPMSampler(weights.schedule)
        let alphas = NoiseSchedule(weights.schedule, precision: .compVis).alphasCumprod
        for index in [0, 500, 999] {
            let t = ddpm.timesteps[index]
            let (a, b) = ddpm.forwardCoefficients(beforeStep: index)
            #expect(abs(a - alphas[t].squareRoot()) < 1e-6 && abs(b - (1 - alphas[t]).squareRoot()) < 1e-6, "t \(t)")
        }
    }
}
