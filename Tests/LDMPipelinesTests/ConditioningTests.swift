import Foundation
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
import LDMImageIO
@testable import LDMPipelines

/// Fixtures: Tests/LDMModelsTests/Fixtures/parity (Scripts/fixtures/make_parity_fixtures.py).
enum ParityFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LDMModelsTests/Fixtures/parity").path
}

@Suite struct ConditioningTests {
    /// The concat conditioning of scripts/inpaint.py, against the PyTorch computation: masked image
    /// encoded (float32 rounding: same bound as the model parity tests), mask channel exact.
    @Test func inpaintingConditioningMatchesTheReference() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let trace = try SafetensorsFile(path: ParityFixture.root + "/inp/trace.safetensors")
        let model = try LatentDiffusionModel(weights: weights)
        let conditioning = try InpaintingConditioning(image: try trace.load("cond.image"), mask: try trace.load("cond.mask"),
                                                      firstStage: weights.firstStage)
        try model.check(conditioning)
        let cond = try conditioning.conditioning(firstStage: model.firstStage, workspace: Workspace())
        let reference = try trace.load("cond.reference")
        #expect(cond.shape == reference.shape)
        let cmp = Comparison(cond.values, reference.values)
        #expect(cmp.nmse < 1e-10 && cmp.maxAbs < 2e-5, "\(cmp)")
        let plane = cond.shape[2] * cond.shape[3]
        #expect(Array(cond.values.suffix(plane)) == Array(reference.values.suffix(plane)), "mask channel is exact")
        #expect(Set(cond.values.suffix(plane)) == [-1, 1])
    }

    @Test func conditioningIsCheckedAgainstTheModel() throws {
        let sr = try LatentDiffusionModel(weights: try ModelWeights.open(ParityFixture.root + "/sr"))
        let inpaintWeights = try ModelWeights.open(ParityFixture.root + "/inp")
        let lowRes = try SuperResolutionConditioning(lowResolution: try Tensor.zeros([1, 3, 8, 8]))
        try sr.check(lowRes)
        #expect(lowRes.channels + sr.firstStage.latentChannels == sr.unet.config.inChannels)
        let inpaint = try InpaintingConditioning(image: try Tensor.zeros([1, 3, 16, 16]), mask: try Tensor.zeros([1, 1, 16, 16]),
                                                 firstStage: inpaintWeights.firstStage)
        #expect(throws: PipelineError.wrongTask(model: .superResolution, conditioning: .inpainting)) { try sr.check(inpaint) }
        #expect(throws: PipelineError.self) {
            _ = try InpaintingConditioning(image: try Tensor.zeros([1, 3, 15, 16]), mask: try Tensor.zeros([1, 1, 15, 16]),
                                           firstStage: inpaintWeights.firstStage)
        }
    }

    /// One denoising step through the shared core equals the U-Net on the concatenated input.
    @Test func predictNoiseConcatenatesLatentFirst() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let model = try LatentDiffusionModel(weights: weights)
        let trace = try SafetensorsFile(path: ParityFixture.root + "/sr/trace.safetensors")
        let x = try trace.load("unet.input")  // [1, 6, 8, 8] = latent(3) + low-res(3)
        let latent = try Tensor(shape: [1, 3, 8, 8], values: Array(x.values.prefix(192)))
        let lowRes = try Tensor(shape: [1, 3, 8, 8], values: Array(x.values.suffix(192)))
        let eps = try model.predictNoise(latent, conditioning: lowRes, timestep: 981, workspace: Workspace())
        let cmp = Comparison(eps.values, try trace.load("unet.output").values)
        #expect(cmp.nmse < 1e-10, "\(cmp)")
    }
}

@Suite struct MaskAdjustmentTests {
    @Test func invertAndDilate() {
        // 5x5, one white pixel in the middle.
        var mask = [Float](repeating: 0, count: 25)
        mask[12] = 1
        let grown = InpaintingImages.adjust(mask, width: 5, height: 5, invert: false, dilate: 1)
        #expect(grown.filter { $0 == 1 }.count == 9, "3x3 square around the pixel")
        #expect(grown[6] == 1 && grown[18] == 1 && grown[0] == 0)
        let inverted = InpaintingImages.adjust(mask, width: 5, height: 5, invert: true, dilate: 0)
        #expect(inverted.filter { $0 == 1 }.count == 24 && inverted[12] == 0)
        #expect(InpaintingImages.warnings([Float](repeating: 0.5, count: 10)) == [.allWhite, .soft(fraction: 1)])
        #expect(InpaintingImages.warnings(mask).isEmpty)
        #expect(InpaintingImages.warnings([1, 1, 1, 0]) == [.mostlyWhite(fraction: 0.75)])
        #expect(MaskWarning.mostlyWhite(fraction: 0.75).description.contains("75 %"))
    }
}
