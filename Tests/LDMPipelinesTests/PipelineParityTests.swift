import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// End-to-end parity on the tiny parity models. Fixture: Fixtures/pipelines.safetensors, made by
/// Scripts/fixtures/make_pipeline_fixtures.py: the diffusers LDMSuperResolutionPipeline itself (10 steps,
/// generator = torch.manual_seed(42), η 0 and 1) and the inpaint.py recipe with CompVis DDIMSampler
/// arithmetic (10 steps, η 0, seed 43).
///
/// Bounds: the final float image within 1e-4 absolute (the per-call U-Net differences of ~1e-6
/// relative pass through 10 steps and the decoder; measured far below), and the 8-bit images equal
/// except ±1 on at most 0.1 % of the values (a float difference can straddle a rounding boundary).
@Suite struct PipelineParityTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pipelines.safetensors").path

    /// NHWC [1, H, W, 3] reference → planar.
    static func planar(_ nhwc: [Float], width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: nhwc.count)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            out[(c * height + y) * width + x] = nhwc[(y * width + x) * 3 + c]
        } } }
        return out
    }

    static func compare8Bit(_ mine: [Float], _ reference: [Float], truncate: Bool) -> (differ: Int, worst: Int) {
        var differ = 0, worst = 0
        for (a, b) in zip(mine, reference) {
            let q = truncate ? Int(a * 255) : Int((a * 255).rounded(.toNearestOrEven))
            let d = abs(q - Int(b))
            if d > 0 { differ += 1 }
            worst = max(worst, d)
        }
        return (differ, worst)
    }

    @Test(arguments: [0, 1])
    func upscaleMatchesTheDiffusersPipeline(_ eta: Int) throws {
        let reference = try SafetensorsFile(path: Self.fixture)
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let lr = try reference.load("sr_lr_u8").values.map { $0 / 255 }  // [1, 3, 16, 16] planar
        let image = PlanarImage(width: 16, height: 16, rgb: lr)
        let result = try pipeline.run(image, settings: SamplingSettings(steps: 10, eta: Float(eta), seed: 42))
        #expect(result.width == 32 && result.height == 32)
        let expected = Self.planar(try reference.load("sr_eta\(eta)_float").values, width: 32, height: 32)
        let cmp = Comparison(result.rgb, expected)
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        let (differ, worst) = Self.compare8Bit(result.rgb, Self.planar(try reference.load("sr_eta\(eta)_u8").values, width: 32, height: 32), truncate: false)
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY upscale eta \(eta): \(cmp) 8-bit differ \(differ) worst \(worst)") }
        #expect(worst <= 1 && differ * 1000 <= result.rgb.count, "\(differ) values differ, worst by \(worst)")
    }

    @Test func inpaintMatchesTheInpaintRecipe() throws {
        let reference = try SafetensorsFile(path: Self.fixture)
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let side = reference.tensors["inp_image_u8"]!.shape[1]
        let pixels = Self.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let mask = try reference.load("inp_mask_u8").values.map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: side, height: side, rgb: pixels), mask: mask,
                                      settings: SamplingSettings(steps: 10, eta: 0, seed: 43))
        let expected = Self.planar(try reference.load("inp_float").values, width: side, height: side)
        let cmp = Comparison(result.rgb, expected)
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        let (differ, worst) = Self.compare8Bit(result.rgb, Self.planar(try reference.load("inp_u8_truncated").values, width: side, height: side), truncate: true)
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY inpaint: \(cmp) 8-bit differ \(differ) worst \(worst)") }
        #expect(worst <= 1 && differ * 1000 <= result.rgb.count, "\(differ) values differ, worst by \(worst)")
    }

    @Test func samplerTimestepsFollowEachConvention() {
        let schedule = NoiseSchedule(NoiseScheduleConfig(linearStart: 0.0015, linearEnd: 0.0155, source: "t"), precision: .diffusers)
        #expect(DDIMSampler(schedule: schedule, steps: 50, eta: 0, convention: .compVis).timesteps.prefix(3) == [981, 961, 941])
        #expect(DDIMSampler(schedule: schedule, steps: 100, eta: 0, convention: .diffusers(setAlphaToOne: true)).timesteps.first == 991)
        #expect(DDIMSampler(schedule: schedule, steps: 30, eta: 0, convention: .compVis).timesteps.count == 31, "CompVis gives 31 steps for S = 30")
        #expect(DDIMSampler(schedule: schedule, steps: 30, eta: 0, convention: .diffusers(setAlphaToOne: true)).timesteps.first == 958)
        // Grids that would reach t = 1000 (past the schedule) stay inside it, in both conventions.
        for steps in [1, 2, 3, 7, 999, 1000] {
            for convention in [DDIMSampler.Convention.compVis, .diffusers(setAlphaToOne: true)] {
                let sampler = DDIMSampler(schedule: schedule, steps: steps, eta: 1, convention: convention)
                #expect(!sampler.timesteps.isEmpty && sampler.timesteps.allSatisfy { (0..<1000).contains($0) }, "\(steps) \(convention)")
                for i in sampler.timesteps.indices { _ = sampler.scalars(step: i) }
            }
            #expect(DPMSolverSampler(schedule: schedule, steps: steps).timesteps.allSatisfy { (0..<1000).contains($0) })
        }
    }

    @Test func cancellationStopsBetweenSteps() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let image = PlanarImage(width: 8, height: 8, rgb: [Float](repeating: 0.5, count: 192))
        let steps = StepCounter()
        #expect(throws: PipelineError.self) {
            _ = try pipeline.run(image, settings: SamplingSettings(steps: 10, seed: 1),
                                 callbacks: PipelineCallbacks(progress: { step, _ in steps.set(step) }, isCancelled: { steps.value >= 3 }))
        }
        #expect(steps.value == 3)
    }
}

final class StepCounter: @unchecked Sendable {
    private(set) var value = 0
    func set(_ v: Int) { value = v }
}

@Suite struct SamplerParityTests {
    @Test func dpmSolverMatchesDiffusers() throws {
        let reference = try SafetensorsFile(path: PipelineParityTests.fixture)
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let schedule = NoiseSchedule(weights.schedule, precision: .diffusers)
        #expect(DPMSolverSampler(schedule: schedule, steps: 10).timesteps.map(Float.init) == (try reference.load("sr_dpm_timesteps").values))
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let lr = try reference.load("sr_lr_u8").values.map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: 16, height: 16, rgb: lr), settings: SamplingSettings(sampler: .dpmpp2m, steps: 10, seed: 42))
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("sr_dpm_float").values, width: 32, height: 32))
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
    }

    /// The same inpainting model as an ldm-edit file (CompVis convention: float64 schedule, ᾱ₀ at
    /// the end) against the inpaint.py recipe.
    @Test func inpaintFromACompVisConventionFileMatchesTheRecipe() throws {
        let reference = try SafetensorsFile(path: PipelineParityTests.fixture)
        let folder = try ModelWeights.open(ParityFixture.root + "/inp")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inp-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        try folder.export(to: path)
        let weights = try ModelWeights.open(path)
        #expect(weights.layout == .canonical)
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        #expect(pipeline.convention == .compVis)
        let side = reference.tensors["inp_image_u8"]!.shape[1]
        let pixels = PipelineParityTests.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let mask = try reference.load("inp_mask_u8").values.map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: side, height: side, rgb: pixels), mask: mask, settings: SamplingSettings(steps: 10, seed: 43))
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("inp_float").values, width: side, height: side))
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
    }

    /// `inpaint` on a CompVis-layout .ckpt (EMA weights, float16 storages, schedule from the
    /// buffers, CompVis DDIM) against the inpaint.py recipe; fixture inp_compvis.ckpt made by
    /// make_pipeline_fixtures.py from the same tiny model.
    @Test func inpaintFromACompVisCheckpointMatchesTheRecipe() throws {
        let reference = try SafetensorsFile(path: PipelineParityTests.fixture)
        let path = URL(fileURLWithPath: PipelineParityTests.fixture).deletingLastPathComponent().appendingPathComponent("inp_compvis.ckpt").path
        let weights = try ModelWeights.open(path)
        #expect(weights.layout == .compVis && weights.emaUsed && weights.schedule.source == "checkpoint buffers")
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        #expect(pipeline.convention == .compVis)
        let side = reference.tensors["inp_image_u8"]!.shape[1]
        let pixels = PipelineParityTests.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let result = try pipeline.run(PlanarImage(width: side, height: side, rgb: pixels), mask: try reference.load("inp_mask_u8").values.map { $0 / 255 },
                                      settings: SamplingSettings(steps: 10, seed: 43))
        let cmp = Comparison(result.rgb, PipelineParityTests.planar(try reference.load("inp_float").values, width: side, height: side))
        #expect(cmp.maxAbs < 1e-4, "\(cmp)")
        let (differ, worst) = PipelineParityTests.compare8Bit(result.rgb, PipelineParityTests.planar(try reference.load("inp_u8_truncated").values, width: side, height: side), truncate: true)
        #expect(worst <= 1 && differ * 1000 <= result.rgb.count, "\(differ) values differ, worst by \(worst)")
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY inpaint ckpt: \(cmp) 8-bit differ \(differ)") }
    }

    @Test(arguments: [SamplerKind.ddim, .dpmpp2m])
    func pipelinesAreBitwiseIdenticalForOneAndTwoThreads(_ sampler: SamplerKind) throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let image = PlanarImage(width: 12, height: 8, rgb: (0..<288).map { Float($0 % 17) / 16 })
        let runs = try [1, 2].map { threads in
            let (rgb, observed) = try withObservedThreads(threads) {
                try pipeline.run(image, settings: SamplingSettings(sampler: sampler, steps: 4, eta: 1, seed: 9)).rgb
            }
            #expect(observed == threads, "threads observed inside the kernels")
            return rgb
        }
        #expect(runs[0] == runs[1])
    }

    @Test func ddpmVisitsEveryTimestep() throws {
        let sampler = DDPMSampler(NoiseScheduleConfig(linearStart: 0.0015, linearEnd: 0.0205, source: "t"))
        #expect(sampler.timesteps.count == 1000 && sampler.timesteps.first == 999 && sampler.timesteps.last == 0)
    }
}

