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

        func check(_ key: String, _ mine: Tensor, bound: Double) throws {
            let expected = try reference.load("\(name).\(key)")
            #expect(mine.shape == expected.shape, "\(key): \(mine.shape) vs \(expected.shape)")
            let cmp = Comparison(Array(UnsafeBufferPointer(start: mine.data, count: mine.count)), expected.values)
            StableDiffusionInpaintingParityTests.verbose("blend \(name) \(key): \(cmp)")
            #expect(cmp.maxAbs <= bound * max(1, Double(expected.values.map { abs($0) }.max() ?? 0)) && cmp.nmse <= 1e-10, "\(name) \(key): \(cmp)")
        }
        try check("image_latents", run.encodedLatents, bound: 2e-5)
        try check("initial_latents", run.initialLatents, bound: 1e-6)
        let expected = PipelineParityTests.planar(try reference.load("\(name).image").values, width: w, height: h)
        let mine = ImageTensor.image(run.decoded, width: w, height: h).rgb
        let cmp = Comparison(mine, expected)
        let (differ, worst) = PipelineParityTests.compare8Bit(mine, expected.map { ($0 * 255).rounded(.toNearestOrEven) }, truncate: false)
        StableDiffusionInpaintingParityTests.verbose("blend \(name) image: \(cmp); 8-bit: \(differ) of \(mine.count) differ, worst \(worst)")
        #expect(cmp.maxAbs < 1e-4, "\(name) image: \(cmp)")
        #expect(worst <= 1 && differ * 1000 <= mine.count, "\(name): \(differ) 8-bit values differ, worst by \(worst)")

        // The public run dispatches to the blended path: the same decoded values in the mask, the source outside.
        let result = try pipeline.run(image, mask: mask, settings: settings)
        var outside = 0, inside = 0
        for p in 0..<(w * h) {
            for c in 0..<3 {
                let i = c * w * h + p
                if mask[p] < 0.5 { outside += result.rgb[i] == image.rgb[i] ? 0 : 1 } else { inside += result.rgb[i] == mine[i] ? 0 : 1 }
            }
        }
        #expect(outside == 0 && inside == 0, "\(outside) unmasked values changed, \(inside) masked values differ from the decoded image")
    }

    @Test func aSamplerWithoutForwardNoisingIsRefused() throws {
        let (weights, model) = try Self.model.get()
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let image = PlanarImage(width: 32, height: 32, rgb: [Float](repeating: 0.5, count: 3 * 32 * 32))
        let mask = [Float](repeating: 1, count: 32 * 32)
        let settings = SamplingSettings(sampler: .ddpm, steps: 2, seed: 1, text: TextPrompt("a cat", guidance: 7.5))
        #expect(throws: PipelineError.samplerUnsupported(sampler: "ddpm", reason: "blended inpainting needs the sampler's forward noising (add_noise)")) {
            try pipeline.run(image, mask: mask, settings: settings)
        }
    }
}
