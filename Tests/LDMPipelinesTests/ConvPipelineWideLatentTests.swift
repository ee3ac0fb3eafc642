import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// The conv models with 8 latent channels (a first stage grown by Scripts/train/experiments/grow_latents.py has 8):
/// fixtures from `Scripts/fixtures/make_conv_autoencoder_fixtures.py --latent-channels 8` — the tiny folders
/// LDMModelsTests/Fixtures/models/conv_{sr,inp}_z8_folder (U-Nets 11 → 8 and 17 → 8 channels, the inpainting one
/// predicting v) and Fixtures/conv_pipelines_z8.safetensors: the same two recipes as ConvPipelineParityTests (the
/// diffusers super-resolution loop at η 0, the inpaint recipe reading v) with z = 8. Nothing in the engine may assume
/// 4 latent channels: the conditioning sizes, the channel check, the initial noise, the sampler and the decoder all
/// follow the first stage's config. Same bounds as ConvPipelineParityTests, for the same reasons.
@Suite struct ConvPipelineWideLatentTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/conv_pipelines_z8.safetensors").path

    static func open() throws -> SafetensorsFile {
        let file = try SafetensorsFile(path: reference)
        try #require(file.metadata["format_version"] == "1" && file.metadata["latent_channels"] == "8",
                     "\(reference): re-run Scripts/fixtures/make_conv_autoencoder_fixtures.py --latent-channels 8")
        return file
    }

    /// The folder as written, or converted to ldm-edit's own file and reopened (the config must carry z).
    static func weights(_ kind: String, converted: Bool) throws -> ModelWeights {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("\(kind)_z8"))
        guard converted else { return weights }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conv-\(kind)-z8-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        try weights.export(to: path)
        return try ModelWeights.open(path)
    }

    @Test(arguments: [false, true])
    func upscaleMatchesTheDiffusersLoop(_ converted: Bool) throws {
        let reference = try Self.open()
        let weights = try Self.weights("sr", converted: converted)
        let model = try LatentDiffusionModel(weights: weights)
        #expect(model.firstStage.latentChannels == 8 && model.unet.config.inChannels == 11)
        let pipeline = try SuperResolutionPipeline(weights: weights, model: model)
        let lr = try reference.load("sr_lr_u8").values.map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: 12, height: 12, rgb: lr), settings: SamplingSettings(steps: 10, eta: 0, seed: 42))
        // The folder samples in diffusers' convention (set_alpha_to_one), the converted file in CompVis' (ᾱ₀ after the
        // last step), as for every converted model (SamplingSetup); the fixture holds both references.
        let expected = try reference.load(converted ? "sr_eta0_compvis_float" : "sr_eta0_float").values
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(expected, width: 48, height: 48))
        ConvPipelineParityTests.verbose("upscale z8\(converted ? " (converted)" : ""): \(cmp)")
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
    }

    @Test(arguments: [false, true])
    func inpaintMatchesTheRecipe(_ converted: Bool) throws {
        let reference = try Self.open()
        let weights = try Self.weights("inp", converted: converted)
        #expect(weights.schedule.prediction == .vPrediction)
        let model = try LatentDiffusionModel(weights: weights)
        #expect(model.firstStage.latentChannels == 8 && model.unet.config.inChannels == 17)
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let side = 32
        let pixels = PipelineParityTests.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let mask = try reference.load("inp_mask_u8").values.map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: side, height: side, rgb: pixels), mask: mask,
                                      settings: SamplingSettings(steps: 10, eta: 0, seed: 43))
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("inp_v_float").values, width: side, height: side))
        ConvPipelineParityTests.verbose("inpaint z8\(converted ? " (converted)" : ""): \(cmp)")
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
    }

    /// 8 + 3 for super-resolution, 8 + (8 + 1) for inpainting; a 4-channel model's conditioning does not fit.
    @Test func conditioningFollowsTheFirstStage() throws {
        let inp = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("inp_z8")))
        let narrow = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("inp")))
        let image = try Tensor.zeros([1, 3, 16, 16]), mask = try Tensor.zeros([1, 1, 16, 16])
        let wide = try InpaintingConditioning(image: image, mask: mask, firstStage: inp.firstStage.config)
        #expect(wide.channels == 9)
        try inp.check(wide)
        #expect(try wide.conditioning(firstStage: inp.firstStage, workspace: Workspace()).shape == [1, 9, 4, 4])
        let four = try InpaintingConditioning(image: image, mask: mask, firstStage: narrow.firstStage.config)
        #expect(throws: PipelineError.self) { try inp.check(four) }
    }
}
