import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Stable Diffusion 2.x inpainting against diffusers 0.42.1's StableDiffusionInpaintPipeline
/// (`make_sd_inpaint_fixtures.py OUT --family sd2`): a small model of stabilityai/stable-diffusion-2-inpainting's shape
/// (9-channel UNet2DConditionModel with linear projections and a per-block `attention_head_dim` list, KL f8 scaled by
/// 0.18215, OpenCLIP text tower with GELU read at its penultimate layer, a tokenizer padding with "!", PNDM ε config),
/// in both forms: LDMModelsTests/Fixtures/models/sd2_inpaint_folder (diffusers; tokenizer/ left out, so the embedded
/// vocabulary with SD 2's padding is used) and sd2_inpaint_compvis.safetensors (one CompVis file, the text encoder as
/// `cond_stage_model.model.*`). The small model is built to run as a single file: one U-Net level 32 wide (one head, as
/// 64 channels per head gives it), 32 GroupNorm groups everywhere, a 4-wide text tower (one head). Same inputs, steps
/// (10), guidance (7.5) and bounds as `StableDiffusionInpaintingParityTests`; the reference is the folder's run.
@Suite struct StableDiffusion2InpaintingParityTests {
    static let folder = SDInpaintFixture.models + "/sd2_inpaint_folder"
    static let singleFile = SDInpaintFixture.models + "/sd2_inpaint_compvis.safetensors"
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd2_inpaint_expected.safetensors").path
    static let cases = ["ddim", "ddim-negative", "euler-a", "euler-a-negative", "dpmpp-2m", "dpmpp-2m-negative"]

    static func verbose(_ text: String) {
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY sd2-inpaint " + text) }
    }

    static let models: [String: Result<(ModelWeights, LatentDiffusionModel), any Error>] = [folder, singleFile].reduce(into: [:]) { all, path in
        all[path] = Result { let w = try ModelWeights.open(path); return (w, try LatentDiffusionModel(weights: w)) }
    }

    @Test(arguments: [folder, singleFile], cases)
    func matchesDiffusers(_ path: String, _ name: String) throws {
        let reference = try SafetensorsFile(path: Self.reference)
        let spec = try SDInpaintFixture.describe(name, in: reference)
        let (weights, model) = try #require(Self.models[path]).get()
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let text = try #require(pipeline.model.text)
        let (image, mask) = try SDInpaintFixture.inputs(reference)
        let (w, h) = (image.width, image.height)
        let sampler = try #require(SamplerKind(rawValue: spec.sampler))
        let prompt = TextPrompt(spec.prompt, negativePrompt: spec.negative_prompt, guidance: 7.5)
        let settings = SamplingSettings(sampler: sampler, steps: 10, seed: spec.seed, text: prompt)
        let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: pipeline.sizeMultiple)
        let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask), multiple: pipeline.sizeMultiple)
        let run = try pipeline.stableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                               callbacks: .init(), workspace: Workspace())
        let form = path == Self.folder ? "folder" : "single file"
        let log = { (line: String) in Self.verbose("(\(form)) " + line) }
        try SDInpaintFixture.check(reference, name, "prompt_embeds", run.context, bound: 2e-5, log: log)
        try SDInpaintFixture.check(reference, name, "masked_image_latents", run.encodedLatents, bound: 2e-5, log: log)
        try SDInpaintFixture.check(reference, name, "initial_latents", run.initialLatents, bound: 1e-6, log: log)
        try SDInpaintFixture.checkImage(reference, name, decoded: run.decoded, pipeline: pipeline, image: image, mask: mask, settings: settings,
                                        log: log)
    }

    /// Both forms are the SD 2 inpainting family: ε (as diffusers' single-file loader infers for a 9-channel U-Net), the
    /// OpenCLIP encoder, SD 2's "!" padding (token id 0 after the end token), PNDM by default.
    @Test func bothFormsAreStableDiffusion2Inpainting() throws {
        for path in [Self.folder, Self.singleFile] {
            let (weights, model) = try #require(Self.models[path]).get()
            #expect(weights.task == .inpainting && weights.unet.inChannels == 9 && weights.schedule.prediction == .epsilon, "\(path)")
            #expect(weights.unet.crossAttention?.linearProjection == true && weights.textEncoder?.config.isOpenCLIP == true)
            #expect(model.defaultSampler == .pndm)
            let tokens = try #require(model.text).tokenize("a cat")
            #expect(tokens.count == 77 && tokens[0] == 49406 && tokens[3] == 49407 && tokens[4...].allSatisfy { $0 == 0 }, "\(tokens.prefix(6))")
            let summary = CheckpointSummary.describe(weights).joined(separator: "\n")
            #expect(summary.contains("family: Stable Diffusion 2.x inpainting U-Net") && summary.contains("text encoder: OpenCLIP"), "\(summary)")
        }
        let (folder, _) = try #require(Self.models[Self.folder]).get()
        let (file, _) = try #require(Self.models[Self.singleFile]).get()
        for spec in folder.parameters {
            #expect(try folder.tensor(spec.name).values == file.tensor(spec.name).values, "\(spec.name)")
        }
    }
}
