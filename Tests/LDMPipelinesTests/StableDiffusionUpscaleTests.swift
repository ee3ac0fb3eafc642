import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// stable-diffusion-x4-upscaler against diffusers 0.42.1's StableDiffusionUpscalePipeline
/// (Scripts/fixtures/make_sd_upscale_fixtures.py): the small x4-upscaler-shaped model of
/// LDMModelsTests/Fixtures/models/sd_upscale_folder (UNet2DConditionModel 7 → 4 with 1000 class embeddings, linear
/// projections, 8 heads; KL f4 with scaling 0.08333; CLIP text encoder width 4 with GELU; v-prediction DDIM and the
/// low-res DDPM schedule; weights float16-exact; tokenizer/ left out, so the embedded vocabulary with SD 2's "!" padding
/// is used), its CompVis single-file copy, and Fixtures/sd_upscale_expected.safetensors: per case the prompt embeddings,
/// the noise-augmented low-res image, the initial latents and the float image before 8-bit rounding, for a 16×24 input
/// (→ 64×96), 8 steps.
enum SDUpscaleFixture {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LDMModelsTests/Fixtures/models").path
    static let folder = models + "/sd_upscale_folder"
    static let compVis = models + "/sd_upscale_compvis.safetensors"
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd_upscale_expected.safetensors").path
    static let cases = ["ddim", "ddim-negative-noise100", "euler-a", "dpmpp-2m-unguided"]
    static let steps = 8

    struct Case: Decodable {
        let sampler: String
        let prompt: String
        let negative_prompt: String?
        let seed: UInt64
        let guidance: Float
        let noise_level: Int
    }

    static func describe(_ name: String, in file: SafetensorsFile) throws -> Case {
        let text = try #require(file.metadata[name], "no metadata for case \(name); re-run make_sd_upscale_fixtures.py")
        return try JSONDecoder().decode(Case.self, from: Data(text.utf8))
    }

    /// The input: [h, w, 3] 8-bit values → planar [0, 1] (v / 255 in float32).
    static func input(_ file: SafetensorsFile) throws -> PlanarImage {
        let image = try file.load("input.image")
        let (h, w) = (image.shape[0], image.shape[1])
        return PlanarImage(width: w, height: h, rgb: PipelineParityTests.planar(image.values, width: w, height: h).map { $0 / 255 })
    }

    static func settings(_ spec: Case) throws -> SamplingSettings {
        var settings = SamplingSettings(sampler: try #require(SamplerKind(rawValue: spec.sampler)), steps: steps, seed: spec.seed,
                                        text: TextPrompt(spec.prompt, negativePrompt: spec.negative_prompt, guidance: spec.guidance))
        settings.noiseLevel = spec.noise_level
        return settings
    }
}

/// Bounds (as StableDiffusionInpaintingParityTests; measured values in docs/testing.md):
/// - prompt embeddings: NMSE ≤ 1e-10, max |Δ| ≤ 2e-5 · max(1, max |ref|) (one encoder call in float32);
/// - augmented image, initial latents: 1e-6 · max(1, max |ref|) (the generator's bits through one a·x + b·ε, or × σ);
/// - the float image: 1e-4 absolute; 8-bit ±1 on at most 0.1 % of the values.
@Suite struct StableDiffusionUpscaleParityTests {
    static func verbose(_ text: String) {
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY sd-upscale " + text) }
    }

    static let weights = Result { try ModelWeights.open(SDUpscaleFixture.folder) }
    static let model = Result { try LatentDiffusionModel(weights: try weights.get()) }

    static func check(_ weights: ModelWeights, _ model: LatentDiffusionModel, _ name: String) throws {
        let reference = try SafetensorsFile(path: SDUpscaleFixture.reference)
        let spec = try SDUpscaleFixture.describe(name, in: reference)
        let pipeline = try SuperResolutionPipeline(weights: weights, model: model)
        let (text, augmentation) = (try #require(model.text), try #require(model.noiseAugmentation))
        let image = try SDUpscaleFixture.input(reference)
        let settings = try SDUpscaleFixture.settings(spec)
        let lowRes = try ImageTensor.tensor(image)
        let run = try pipeline.upscale(lowResolution: lowRes, augmentation: augmentation, text: text, prompt: try #require(settings.text),
                                       settings: settings, callbacks: .init(), workspace: Workspace())
        try SDInpaintFixture.check(reference, name, "prompt_embeds", run.context, bound: 2e-5, log: verbose)
        try SDInpaintFixture.check(reference, name, "augmented_image", run.augmentedImage, bound: 1e-6, log: verbose)
        try SDInpaintFixture.check(reference, name, "initial_latents", run.initialLatents, bound: 1e-6, log: verbose)

        let (w, h) = (4 * image.width, 4 * image.height)
        let expected = PipelineParityTests.planar(try reference.load("\(name).image").values, width: w, height: h)
        let mine = ImageTensor.image(run.decoded, width: w, height: h).rgb
        let cmp = Comparison(mine, expected)
        let (differ, worst) = PipelineParityTests.compare8Bit(mine, expected.map { ($0 * 255).rounded(.toNearestOrEven) }, truncate: false)
        verbose("\(name) image: \(cmp); 8-bit: \(differ) of \(mine.count) differ, worst \(worst)")
        #expect(cmp.maxAbs < 1e-4, "\(name) image: \(cmp)")
        #expect(worst <= 1 && differ * 1000 <= mine.count, "\(name): \(differ) 8-bit values differ, worst by \(worst)")
        // The public entry point gives the same picture, 4× the input.
        let result = try pipeline.run(image, settings: settings)
        #expect(result.width == w && result.height == h && result.rgb == mine)
    }

    @Test(arguments: SDUpscaleFixture.cases)
    func folderMatchesDiffusers(_ name: String) throws {
        try Self.check(try Self.weights.get(), try Self.model.get(), name)
    }

    /// The CompVis single file (x4-upscaler-ema.safetensors' names) holds the folder's U-Net and KL-f4 tensors, with the
    /// class embedding (`label_emb.weight`), the first stage's scaling 0.08333, the x4 repository's DDIM and the low-res
    /// schedule detected without a config. It does not run here: its GroupNorm groups (4) are not visible in weights and
    /// detection assumes the released 32 (as for the SD 1.x single file, docs/testing.md), and its OpenCLIP text encoder
    /// (`cond_stage_model.model.*`) is read by issue 21's SD 2 work. (diffusers' family inference, by
    /// `input_blocks.10.0.skip_connection.bias`, needs the released depth, which this 2-level U-Net lacks, so ε/v is not
    /// checked here.)
    @Test func singleFileHoldsTheFolderWeights() throws {
        let folder = try Self.weights.get()
        let file = try ModelWeights.open(SDUpscaleFixture.compVis)
        #expect(file.layout == .compVis && file.task == .superResolution && file.unet.classEmbeddings == 1000 && file.unet.heads == .count(8))
        #expect(file.firstStage.kl?.scalingFactor == 0.08333 && file.firstStage.downsamplingFactor == 4)
        #expect(file.schedule.schedulerClass == "DDIMScheduler" && file.schedule.linearStart == 0.0001 && file.schedule.linearEnd == 0.02)
        #expect(file.noiseAugmentation == .x4Upscaler)
        #expect(Set(file.parameters.map(\.name)) == Set(folder.parameters.map(\.name)))
        for spec in folder.parameters { #expect(try file.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)") }
    }

    /// What the folder declares: the x4 family's numbers, DDIM by default, guidance 9.
    @Test func folderReadsTheUpscalersConfiguration() throws {
        let weights = try Self.weights.get()
        #expect(weights.task == .superResolution && weights.unet.classEmbeddings == 1000 && weights.unet.inChannels == 7)
        #expect(weights.firstStage.kl?.scalingFactor == 0.08333 && weights.firstStage.downsamplingFactor == 4)
        let augmentation = try #require(weights.noiseAugmentation)
        #expect(augmentation.maxNoiseLevel == 350 && augmentation.schedule.linearStart == 0.0001 && augmentation.schedule.linearEnd == 0.02)
        #expect(augmentation.schedule.source == "scheduler_config.json")
        #expect(try Self.model.get().defaultSampler == .ddim && LatentDiffusionModel.defaultGuidance(for: weights) == 9)
    }

    /// Refusals: a noise level beyond max_noise_level or below 0, a missing prompt; the LDM model refuses a prompt and a
    /// noise level.
    @Test func refusals() throws {
        let weights = try Self.weights.get()
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try Self.model.get())
        let image = PlanarImage(width: 8, height: 8, rgb: [Float](repeating: 0.5, count: 3 * 64))
        var settings = SamplingSettings(steps: 1, seed: 1, text: TextPrompt("a cat", guidance: 9))
        for level in [351, -1] {
            settings.noiseLevel = level
            #expect(throws: PipelineError.noiseLevel(level, maximum: 350)) { try pipeline.run(image, settings: settings) }
        }
        settings.noiseLevel = nil
        settings.text = nil
        #expect(throws: PipelineError.promptRequired) { try pipeline.run(image, settings: settings) }

        let ldm = try ModelWeights.open(ConvPipelineFixture.folder("sr"))
        let sr = try SuperResolutionPipeline(weights: ldm, model: try LatentDiffusionModel(weights: ldm))
        #expect(throws: PipelineError.promptNotAccepted) {
            try sr.run(image, settings: SamplingSettings(steps: 1, seed: 1, text: TextPrompt("a cat")))
        }
        var level = SamplingSettings(steps: 1, seed: 1)
        level.noiseLevel = 20
        #expect(throws: PipelineError.noiseLevelNotAccepted) { try sr.run(image, settings: level) }
    }

    /// Noise augmentation as diffusers' DDPMScheduler.add_noise: level 0 keeps the image (ᾱ_0 = 1 − β_0), level 350
    /// mixes in √(1 − ᾱ_350) of the noise.
    @Test func augmentationFollowsItsSchedule() throws {
        let augmentation = NoiseAugmentation(.x4Upscaler)
        let image = try Tensor(shape: [1, 3, 2, 2], values: (0..<12).map { Float($0) / 6 - 1 })
        let noise = try Tensor(shape: [1, 3, 2, 2], values: (0..<12).map { Float($0 % 5) - 2 })
        let alphas = NoiseSchedule(NoiseAugmentationConfig.x4Upscaler.schedule, precision: .diffusers).alphasCumprod
        for level in [0, 20, 350] {
            let out = try augmentation.noised(image, level: level, noise: noise)
            let (a, b) = (alphas[level].squareRoot(), (1 - alphas[level]).squareRoot())
            #expect(out.values == zip(image.values, noise.values).map { a * $0 + b * $1 })
        }
        #expect(abs(alphas[0] - (1 - 0.0001)) < 1e-7)
        #expect(throws: PipelineError.noiseLevel(351, maximum: 350)) { try augmentation.noised(image, level: 351, noise: noise) }
    }
}
