import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// The whole Stable Diffusion inpainting pipeline with the fixture's f16 weights kept 16-bit in memory
/// (`WeightPrecision.asStored`, widened per layer and call) and widened to Float32 at load: the same
/// prompt embeddings, masked-image latents and decoded image, bit for bit, for the diffusers folder
/// (LDMModelsTests/Fixtures/models, Scripts/fixtures/make_sd_inpaint_fixtures.py). Its CompVis single file
/// does not run (its 16-wide layers do not fit the 32 GroupNorm groups single files are detected with);
/// WeightPrecisionTests compares its weights tensor for tensor.
@Suite struct SixteenBitWeightsPipelineTests {
    struct Run: Equatable {
        let context, encodedLatents, decoded: [UInt32]
        let result: [Float]
    }

    static func run(_ path: String, _ precision: WeightPrecision) throws -> Run {
        let weights = try ModelWeights.open(path, precision: precision)
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let text = try #require(pipeline.model.text)
        let (w, h) = (64, 64)
        let image = PlanarImage(width: w, height: h, rgb: (0..<(3 * w * h)).map { Float(($0 * 7919) % 256) / 255 })
        let mask = (0..<(w * h)).map { p in Float(p % w >= 16 && p / w < 40 ? 1 : 0) }
        let prompt = TextPrompt("a red chair", negativePrompt: "blurry", guidance: 7.5)
        let settings = SamplingSettings(sampler: .pndm, steps: 3, seed: 11, text: prompt)
        let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: pipeline.sizeMultiple)
        let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask), multiple: pipeline.sizeMultiple)
        let sd = try pipeline.stableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                              callbacks: .init(), workspace: Workspace())
        let result = try pipeline.run(image, mask: mask, settings: settings)
        return Run(context: sd.context.values.map(\.bitPattern), encodedLatents: sd.encodedLatents.values.map(\.bitPattern),
                   decoded: sd.decoded.values.map(\.bitPattern), result: result.rgb)
    }

    @Test(arguments: [SDInpaintFixture.folder])
    func sameBitsEitherWay(_ path: String) throws {
        let half = try Self.run(path, .asStored), wide = try Self.run(path, .float32)
        #expect(half.context == wide.context)
        #expect(half.encodedLatents == wide.encodedLatents)
        #expect(half.decoded == wide.decoded, "\(zip(half.decoded, wide.decoded).filter { $0 != $1 }.count) decoded values differ")
        #expect(half.result == wide.result)
        // Not a vacuous comparison: the run produced an image, and the mask changed it.
        #expect(half.decoded.count == 3 * 64 * 64 && Set(half.decoded).count > 100)
    }
}
