import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Models with the conv autoencoder first stage (4 latent channels, scaled latents): fixtures from
/// Scripts/fixtures/make_conv_autoencoder_fixtures.py — the tiny folders LDMModelsTests/Fixtures/models/conv_{sr,inp}_folder
/// and Fixtures/conv_pipelines.safetensors: the LDMSuperResolutionPipeline loop (diffusers DDIMScheduler,
/// 10 steps, torch.manual_seed(42), η 0 and 1, 12×12 → 48×48) and the inpaint.py recipe (CompVis
/// DDIM arithmetic, 10 steps, seed 43, 32×32), both with z · scaling_factor latents.
enum ConvPipelineFixture {
    static let models = URL(fileURLWithPath: ParityFixture.root).deletingLastPathComponent().appendingPathComponent("models").path
    static func folder(_ kind: String) -> String { models + "/conv_\(kind)_folder" }
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/conv_pipelines.safetensors").path

    static func open() throws -> SafetensorsFile {
        let file = try SafetensorsFile(path: reference)
        try #require(file.metadata["format_version"] == "1", "\(reference): format_version \(file.metadata["format_version"] ?? "none"); re-run Scripts/fixtures/make_conv_autoencoder_fixtures.py")
        return file
    }
}

/// Bounds as PipelineParityTests (the same reasoning: per-call differences of ~1e-6 relative through
/// 10 steps and the decoder): the final float image within 1e-4 absolute, the 8-bit image equal but
/// for ±1 on at most 0.1 % of the values.
@Suite struct ConvPipelineParityTests {
    static func verbose(_ text: String) {
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY conv " + text) }
    }

    @Test(arguments: [0, 1])
    func upscaleMatchesTheDiffusersLoop(_ eta: Int) throws {
        let reference = try ConvPipelineFixture.open()
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("sr"))
        let model = try LatentDiffusionModel(weights: weights)
        let pipeline = try SuperResolutionPipeline(weights: weights, model: model)
        #expect(model.firstStage.latentChannels == 4 && model.unet.config.inChannels == 7)
        let lr = try reference.load("sr_lr_u8").values.map { $0 / 255 }  // [1, 3, 12, 12] planar
        let result = try pipeline.run(PlanarImage(width: 12, height: 12, rgb: lr), settings: SamplingSettings(steps: 10, eta: Float(eta), seed: 42))
        #expect(result.width == 48 && result.height == 48)
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("sr_eta\(eta)_float").values, width: 48, height: 48))
        Self.verbose("upscale eta \(eta): \(cmp)")
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        if eta == 0 {
            let (differ, worst) = PipelineParityTests.compare8Bit(result.rgb, PipelineParityTests.planar(try reference.load("sr_eta0_u8").values, width: 48, height: 48), truncate: false)
            Self.verbose("upscale 8-bit: \(differ) differ, worst \(worst)")
            #expect(worst <= 1 && differ * 1000 <= result.rgb.count, "\(differ) values differ, worst by \(worst)")
        }
    }

    /// The fixture's 32×32 image and mask inpainted by `weights` (a 9-channel conv model), DDIM 10 steps, η 0,
    /// seed 43: the inpaint recipe's settings in make_conv_autoencoder_fixtures.py.
    static func inpaintFixture(_ weights: ModelWeights, _ reference: SafetensorsFile) throws -> PlanarImage {
        let model = try LatentDiffusionModel(weights: weights)
        #expect(model.unet.config.inChannels == 9)
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let side = 32
        let pixels = PipelineParityTests.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let mask = try reference.load("inp_mask_u8").values.map { $0 / 255 }
        return try pipeline.run(PlanarImage(width: side, height: side, rgb: pixels), mask: mask, settings: SamplingSettings(steps: 10, eta: 0, seed: 43))
    }

    /// From the folder (diffusers convention with set_alpha_to_one false = CompVis' ᾱ₀ at the end) and
    /// from its converted canonical file (CompVis convention).
    @Test(arguments: [false, true])
    func inpaintMatchesTheInpaintRecipe(_ converted: Bool) throws {
        let reference = try ConvPipelineFixture.open()
        var weights = try ModelWeights.open(ConvPipelineFixture.folder("inp"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conv-inp-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        if converted {
            try weights.export(to: path)
            weights = try ModelWeights.open(path)
        }
        let result = try Self.inpaintFixture(weights, reference)
        let side = 32
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("inp_float").values, width: side, height: side))
        Self.verbose("inpaint\(converted ? " (converted)" : ""): \(cmp)")
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        let (differ, worst) = PipelineParityTests.compare8Bit(result.rgb, PipelineParityTests.planar(try reference.load("inp_u8_truncated").values, width: side, height: side), truncate: true)
        #expect(worst <= 1 && differ * 1000 <= result.rgb.count, "\(differ) values differ, worst by \(worst)")
    }

    /// The bundled models predict v (Scripts/train/train_diffusion.py): the inpainting folder with
    /// `"prediction_type": "v_prediction"` in its scheduler config, as a folder and converted to ldm-edit's
    /// file (the prediction type must survive the conversion), against the inpaint recipe reading the
    /// same U-Net's output as v (`inp_v_float`). Same bound as the ε case.
    @Test(arguments: [false, true])
    func aVPredictingModelMatchesTheRecipe(_ converted: Bool) throws {
        let reference = try ConvPipelineFixture.open()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("conv-inp-v-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: ConvPipelineFixture.folder("inp"), toPath: folder)
        let configPath = folder + "/scheduler/scheduler_config.json"
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        config["prediction_type"] = "v_prediction"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        var weights = try ModelWeights.open(folder)
        if converted {
            let path = folder + ".safetensors"
            defer { unlink(path) }
            try weights.export(to: path)
            weights = try ModelWeights.open(path)
        }
        #expect(weights.schedule.prediction == .vPrediction)
        let result = try Self.inpaintFixture(weights, reference)
        let side = 32
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("inp_v_float").values, width: side, height: side))
        Self.verbose("inpaint v\(converted ? " (converted)" : ""): \(cmp)")
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        // Reading the output as ε instead gives a different image: the test sees the prediction type.
        let asEpsilon = PipelineParityTests.planar(try reference.load("inp_float").values, width: side, height: side)
        #expect(Comparison(result.rgb, asEpsilon).maxAbs > 1e-2)
    }

    /// The conditioning modules and the channel check through the first-stage abstraction: 4 + 3 for
    /// super-resolution, 4 + (4 + 1) for inpainting; the other task's conditioning is refused.
    @Test func conditioningFitsTheConvModels() throws {
        let sr = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("sr")))
        let inp = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("inp")))
        let lowRes = try SuperResolutionConditioning(lowResolution: try Tensor.zeros([1, 3, 8, 8]))
        try sr.check(lowRes)
        let inpainting = try InpaintingConditioning(image: try Tensor.zeros([1, 3, 16, 16]), mask: try Tensor.zeros([1, 1, 16, 16]),
                                                    firstStage: inp.firstStage.config)
        #expect(inpainting.channels == 5)
        try inp.check(inpainting)
        let cond = try inpainting.conditioning(firstStage: inp.firstStage, workspace: Workspace())
        #expect(cond.shape == [1, 5, 4, 4])
        #expect(throws: PipelineError.wrongTask(model: .superResolution, conditioning: .inpainting)) { try sr.check(inpainting) }
    }
}

/// Tiled first-stage passes of the conv autoencoder: with no normalisation its reach is bounded
/// (9 latent pixels for the decoder, 6 for the encoder), the grids overlap by at least twice that,
/// and each tile keeps the part it owns, so tiled equals untiled everywhere (borders included: a
/// border tile sees the same zero padding as the whole image) up to float rounding — the whole image
/// and a tile may take different convolution algorithms (Winograd from 1024 output pixels, GEMM
/// blockings), ~1e-7 relative per op. Bound: 2e-5 · max(1, max |x|), the model parity bound.
@Suite struct ConvTilingTests {
    static func smooth(_ shape: [Int], amplitude: Float) throws -> Tensor {
        let t = try TilingTests.smooth(shape)
        for i in 0..<t.count { t.data[i] *= amplitude }
        return t
    }

    static func compare(_ whole: Tensor, _ tiled: Tensor) -> (maxAbs: Double, bound: Double) {
        let cmp = Comparison(tiled.values, whole.values)
        return (cmp.maxAbs, 2e-5 * max(1, whole.values.map { abs(Double($0)) }.max() ?? 0))
    }

    @Test func tiledDecodeEqualsUntiled() throws {
        let model = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("sr")))
        let stage = model.firstStage
        let reach = try #require(stage.reach)
        let ws = Workspace()
        let latent = try Self.smooth([1, 4, 41, 58], amplitude: 19.37)  // unit-scale z after unscaling
        let whole = try stage.decode(latent, workspace: ws).copy()
        for requested in [TilingSettings(unetTile: 64, unetOverlap: 16, vqTile: 16, vqOverlap: 4),
                          TilingSettings(unetTile: 64, unetOverlap: 16, vqTile: 40, vqOverlap: 24)] {
            let grid = stage.decoderGrid(height: 41, width: 58, tiling: requested)
            #expect(!grid.isSingleTile && grid.overlap >= 2 * reach.decoder && grid.tile >= 2 * grid.overlap)
            let tiled = try stage.decode(latent, grid: grid, workspace: ws)
            let (maxAbs, bound) = Self.compare(whole, tiled)
            print("conv decode tile \(grid.tile)/\(grid.overlap) (\(grid.tiles.count) tiles): max |Δ| \(maxAbs) against untiled (bound \(bound))")
            #expect(maxAbs <= bound, "tile \(grid.tile)/\(grid.overlap)")
        }
        // The VQ grids are untouched by the conv rules.
        let vq = try LatentDiffusionModel(weights: try ModelWeights.open(ParityFixture.root + "/sr")).firstStage
        #expect(vq.reach == nil && vq.decoderGrid(height: 41, width: 58, tiling: .standard) == TileGrid(height: 41, width: 58, tile: 128, overlap: 32))
    }

    @Test func tiledEncodeEqualsUntiled() throws {
        let model = try LatentDiffusionModel(weights: try ModelWeights.open(ConvPipelineFixture.folder("inp")))
        let stage = model.firstStage
        let ws = Workspace()
        let image = try Self.smooth([1, 3, 4 * 37, 4 * 50], amplitude: 1.5)
        let whole = try stage.encode(image, workspace: ws).copy()
        let grid = stage.encoderGrid(height: 37, width: 50, tiling: TilingSettings(unetTile: 64, unetOverlap: 16, vqTile: 12, vqOverlap: 2))
        #expect(!grid.isSingleTile && grid.overlap >= 2 * (stage.reach?.encoder ?? .max))
        let (maxAbs, bound) = Self.compare(whole, try stage.encode(image, grid: grid, workspace: ws))
        print("conv encode tile \(grid.tile)/\(grid.overlap) (\(grid.tiles.count) tiles): max |Δ| \(maxAbs) against untiled (bound \(bound))")
        #expect(maxAbs <= bound)
    }

    /// The whole pipeline with the decoder on small tiles (U-Net untiled) gives the untiled image up to
    /// float rounding; the memory planner probes the conv first stage and plans within a budget.
    @Test func pipelineDecoderTilesAndMemoryPlan() throws {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("sr"))
        let model = try LatentDiffusionModel(weights: weights)
        let pipeline = try SuperResolutionPipeline(weights: weights, model: model)
        let image = PlanarImage(width: 45, height: 27, rgb: (0..<(3 * 45 * 27)).map { Float(($0 * 53) % 256) / 255 })
        let small = TilingSettings(unetTile: 4096, unetOverlap: 0, vqTile: 8, vqOverlap: 2)
        let tiled = try pipeline.run(image, settings: SamplingSettings(steps: 3, seed: 5, tiling: small))
        let whole = try pipeline.run(image, settings: SamplingSettings(steps: 3, seed: 5, tiling: .none))
        let cmp = Comparison(tiled.rgb, whole.rgb)
        print("conv upscale with decoder tiles vs untiled: \(cmp)")
        #expect(cmp.maxAbs <= 1e-5, "\(cmp)")

        let planner = try MemoryPlanner(model: model, weightBytes: weights.parameterCount * 4)
        let estimate = planner.estimate(latentHeight: 512, latentWidth: 512, tiling: .standard, encodes: true)
        #expect(estimate.decoder > 0 && estimate.encoder > 0)
        let (plan, _) = try planner.plan(latentHeight: 512, latentWidth: 512, preferred: .standard, budget: estimate.total, encodes: true)
        #expect(plan == .standard)
    }
}
