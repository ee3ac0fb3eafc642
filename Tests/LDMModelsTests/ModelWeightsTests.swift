import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// Fixtures: Tests/LDMModelsTests/Fixtures/models, made by Scripts/fixtures/make_model_fixtures.py from real
/// diffusers UNet2DModel/VQModel pairs (torch 2.15.0, diffusers 0.42.1), with the CompVis
/// checkpoints derived by inverting docs/ldm-spec.md §6.3 and cross-checked against the reference
/// converter. Every layout of one model must load to the same canonical tensors.
@Suite struct ModelWeightsTests {
    static func path(_ name: String) -> String { Fixture.path("models/" + name) }

    static func assertSameTensors(_ a: ModelWeights, _ b: ModelWeights, offset: Float = 0, unetOnly: Bool = false) throws {
        #expect(a.parameters.map(\.name) == b.parameters.map(\.name))
        for spec in a.parameters where !unetOnly || spec.name.hasPrefix("unet.") {
            let x = try a.tensor(spec.name), y = try b.tensor(spec.name)
            #expect(x.shape == spec.shape && y.shape == spec.shape, "\(spec.name)")
            let shifted = offset == 0 || !spec.name.hasPrefix("unet.") ? y.values : y.values.map { $0 + offset }
            #expect(x.values == shifted, "\(spec.name)")
        }
    }

    @Test(arguments: ["sr", "inp"])
    func compVisCheckpointAndDiffusersFolderAgree(_ kind: String) throws {
        let ckpt = try ModelWeights.open(Self.path("\(kind)_compvis.ckpt"))
        let folder = try ModelWeights.open(Self.path("\(kind)_diffusers"))
        #expect(ckpt.layout == .compVis && folder.layout == .diffusers)
        #expect(ckpt.task == (kind == "sr" ? .superResolution : .inpainting) && folder.task == ckpt.task)
        #expect(ckpt.emaPresent && ckpt.emaUsed, "EMA weights are the default, as the reference scripts use")
        // Detected from shapes vs read from config.json (heads are not visible in CompVis weights).
        var detected = ckpt.unet
        detected.heads = folder.unet.heads
        detected.normGroups = folder.unet.normGroups
        #expect(detected == folder.unet)
        var vq = try #require(ckpt.firstStage.vq)
        let folderVQ = try #require(folder.firstStage.vq)
        vq.normGroups = folderVQ.normGroups
        #expect(vq == folderVQ)
        #expect(vq.midAttention == (kind == "sr"))
        try Self.assertSameTensors(ckpt, folder)
    }

    @Test func rawWeightsWithoutEMA() throws {
        let raw = try ModelWeights.open(Self.path("sr_compvis.ckpt"), useEMA: false)
        let ema = try ModelWeights.open(Self.path("sr_compvis.ckpt"))
        #expect(raw.emaPresent && !raw.emaUsed)
        // The fixture's raw U-Net weights are the EMA ones minus 0.25 (computed in float32 by torch).
        let name = "unet.input_blocks.0.0.weight"
        let r = try raw.tensor(name).values, e = try ema.tensor(name).values
        #expect(zip(r, e).allSatisfy { abs(($1 - 0.25) - $0) <= 1e-7 })
        #expect(try raw.tensor("vq.quant_conv.weight").values == (try ema.tensor("vq.quant_conv.weight").values))
    }

    @Test func oldAttentionSpellingsAreRead() throws {
        let folder = try ModelWeights.open(Self.path("sr_diffusers"))
        let vq = try #require(folder.sources.last)
        #expect(vq.tensors["encoder.mid_block.attentions.0.query.weight"] != nil)
        #expect(try folder.tensor("vq.encoder.mid.attn_1.q.weight").shape == [16, 16, 1, 1])
    }

    @Test func fusedQKVFollowsTheLegacyPerHeadOrder() throws {
        // Inpainting family: 2 heads (the scaled-down 8-head patch); to_q/to_k/to_v rows per head.
        let folder = try ModelWeights.open(Self.path("inp_diffusers"))
        let unetFile = folder.sources[0]
        let q = try unetFile.load("mid_block.attentions.0.to_q.weight").values
        let k = try unetFile.load("mid_block.attentions.0.to_k.weight").values
        let fused = try folder.tensor("unet.middle_block.1.qkv.weight").values
        let (c, d) = (16, 8)
        // head 1's k block starts at row 1·3d + d.
        #expect(Array(fused[((3 * d + d) * c)..<((3 * d + 2 * d) * c)]) == Array(k[(d * c)..<(2 * d * c)]))
        #expect(Array(fused[0..<(d * c)]) == Array(q[0..<(d * c)]))
    }
}

@Suite struct ScheduleTests {
    /// CompVis buffers and diffusers scheduler_config.json give the same schedule (docs/ldm-spec.md §1.4).
    @Test(arguments: [("sr", 0.0155), ("inp", 0.0205)])
    func scheduleIsReadFromEveryLayout(_ c: (String, Double)) throws {
        let ckpt = try ModelWeights.open(ModelWeightsTests.path("\(c.0)_compvis.ckpt"))
        #expect(ckpt.schedule.source == "checkpoint buffers")
        #expect(ckpt.schedule.linearStart == 0.0015 && ckpt.schedule.linearEnd == c.1 && ckpt.schedule.timesteps == 1000)
        let folder = try ModelWeights.open(ModelWeightsTests.path("\(c.0)_diffusers"))
        #expect(folder.schedule.source == "scheduler_config.json" && folder.schedule.linearEnd == c.1)
    }

    /// ᾱ test vectors of docs/ldm-spec.md §1.4 (CompVis float64 → float32).
    @Test func linearScheduleMatchesTheReferenceVectors() {
        func alphas(_ end: Double) -> [Double] {
            var p = 1.0
            return NoiseScheduleConfig(linearStart: 0.0015, linearEnd: end, source: "test").betas.map { p *= 1 - $0; return p }
        }
        let inpaint = alphas(0.0205), sr = alphas(0.0155)
        #expect(Float(inpaint[0]) == 0.9985 && Float(inpaint[1]) == 0.996994138 && Float(inpaint[999]) == 9.6910866e-5)
        #expect(Float(inpaint[501]) == 0.106782906 && Float(inpaint[981]) == 1.40045944e-4)
        #expect(Float(sr[1]) == 0.996995628 && Float(sr[501]) == 0.149067298 && Float(sr[999]) == 6.68665161e-4)
    }

    /// `prediction_type` of scheduler_config.json: ε when absent, v when "v_prediction", anything else ("sample", a
    /// number) refused by name rather than run as ε.
    @Test func predictionTypeIsReadFromTheSchedulerConfig() throws {
        let base: [String: Any] = ["beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012]
        #expect(try NoiseScheduleConfig.fromDiffusers(base, path: "x").prediction == .epsilon)
        #expect(try NoiseScheduleConfig.fromDiffusers(base.merging(["prediction_type": "epsilon"]) { $1 }, path: "x").predictionType == .epsilon)
        #expect(try NoiseScheduleConfig.fromDiffusers(base.merging(["prediction_type": "v_prediction"]) { $1 }, path: "x").prediction == .vPrediction)
        #expect(throws: CheckpointError.invalidConfig(path: "x", field: "prediction_type", value: "\"sample\"",
                                                      expected: "\"epsilon\" or \"v_prediction\" (what ldm-edit's samplers implement)")) {
            try NoiseScheduleConfig.fromDiffusers(base.merging(["prediction_type": "sample"]) { $1 }, path: "x")
        }
        // A canonical config written before the field existed decodes, as ε.
        let old = try JSONDecoder().decode(NoiseScheduleConfig.self, from: Data(#"{"timesteps":1000,"linearStart":0.00085,"linearEnd":0.012,"source":"s"}"#.utf8))
        #expect(old.predictionType == nil && old.prediction == .epsilon)
    }

    /// Single files: diffusers' `infer_diffusers_model_type` order (9 channels first, then the SD 2 probe, then the upscaler's).
    @Test func singleFilePredictionFollowsTheDiffusersFamily() {
        #expect(PredictionType.stableDiffusionSingleFile(inChannels: 9, v2ContextWidth: 1024, upscaleSkip: false) == .epsilon)  // SD-2 inpainting
        #expect(PredictionType.stableDiffusionSingleFile(inChannels: 9, v2ContextWidth: 768, upscaleSkip: false) == .epsilon)   // SD 1.5 inpainting
        #expect(PredictionType.stableDiffusionSingleFile(inChannels: 4, v2ContextWidth: 1024, upscaleSkip: false) == .vPrediction)  // SD 2.1 768
        #expect(PredictionType.stableDiffusionSingleFile(inChannels: 7, v2ContextWidth: nil, upscaleSkip: true) == .vPrediction)  // x4 upscaler
        #expect(PredictionType.stableDiffusionSingleFile(inChannels: 4, v2ContextWidth: 768, upscaleSkip: false) == .epsilon)   // SD 1.5
    }

    @Test func foreignSchedulesAreRefused() {
        var betas = NoiseScheduleConfig(linearStart: 0.0015, linearEnd: 0.0205, source: "t").betas.map { Float($0) }
        betas[500] *= 1.01
        #expect(throws: CheckpointError.self) { _ = try NoiseScheduleConfig.fromBuffers(betas: betas, alphasCumprod: nil, path: "x") }
        #expect(throws: CheckpointError.self) {
            _ = try NoiseScheduleConfig.fromDiffusers(["beta_schedule": "linear", "beta_start": 0.0015, "beta_end": 0.0155], path: "x")
        }
    }
}
