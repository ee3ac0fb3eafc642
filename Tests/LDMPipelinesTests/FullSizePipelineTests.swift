import Foundation
import LDMImageIO
import LDMModels
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Opt-in: the pipelines on the full-size random models (make_parity_fixtures.py --full, then
/// make_pipeline_fixtures.py PATH PATH --full), 5 steps, against diffusers / the inpaint.py recipe.
///     LDM_EDIT_FULLSIZE_PARITY=/tmp/ldm-fullsize bash Scripts/test.sh --filter FullSizePipelineTests
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_FULLSIZE_PARITY"] != nil))
struct FullSizePipelineTests {
    static let root = ProcessInfo.processInfo.environment["LDM_EDIT_FULLSIZE_PARITY"] ?? ""

    @Test func fullSizePipelinesMatchTheReferences() throws {
        let reference = try SafetensorsFile(path: Self.root + "/pipelines.safetensors")
        let srWeights = try ModelWeights.open(Self.root + "/sr")
        let sr = try SuperResolutionPipeline(weights: srWeights, model: try LatentDiffusionModel(weights: srWeights))
        let lrShape = reference.tensors["sr_lr_u8"]!.shape
        let lr = PlanarImage(width: lrShape[3], height: lrShape[2], rgb: try reference.load("sr_lr_u8").values.map { $0 / 255 })
        for (name, settings) in [("sr_eta0", SamplingSettings(steps: 5, eta: 0, seed: 42)), ("sr_eta1", SamplingSettings(steps: 5, eta: 1, seed: 42)),
                                 ("sr_dpm", SamplingSettings(sampler: .dpmpp2m, steps: 5, seed: 42))] {
            let out = try sr.run(lr, settings: settings)
            let cmp = Comparison(out.rgb, PipelineParityTests.planar(try reference.load(name + "_float").values, width: out.width, height: out.height))
            print("full-size \(name): \(out.width)x\(out.height) \(cmp)")
            #expect(cmp.maxAbs < 1e-3, "\(name): \(cmp)")
        }
        let inpWeights = try ModelWeights.open(Self.root + "/inp")
        let inp = try InpaintingPipeline(weights: inpWeights, model: try LatentDiffusionModel(weights: inpWeights))
        let side = reference.tensors["inp_image_u8"]!.shape[1]
        let pixels = PipelineParityTests.planar(try reference.load("inp_image_u8").values, width: side, height: side).map { $0 / 255 }
        let out = try inp.run(PlanarImage(width: side, height: side, rgb: pixels), mask: try reference.load("inp_mask_u8").values.map { $0 / 255 },
                              settings: SamplingSettings(steps: 5, seed: 43))
        let cmp = Comparison(out.rgb, PipelineParityTests.planar(try reference.load("inp_float").values, width: side, height: side))
        let (differ, worst) = PipelineParityTests.compare8Bit(out.rgb, PipelineParityTests.planar(try reference.load("inp_u8_truncated").values, width: side, height: side), truncate: true)
        print("full-size inpaint: \(cmp); 8-bit (truncated like inpaint.py): \(differ) of \(out.rgb.count) differ, worst \(worst)")
        #expect(cmp.maxAbs < 1e-3)
    }
}
