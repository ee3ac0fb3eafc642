import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Stable Diffusion 1.x inpainting against diffusers 0.42.1's StableDiffusionInpaintPipeline
/// (Scripts/fixtures/make_sd_inpaint_fixtures.py): the small SD-inpainting-shaped model of
/// LDMModelsTests/Fixtures/models/sd_inpaint_folder (UNet2DConditionModel 9 → 4 with cross-attention, KL f8, CLIP
/// text encoder width 16; weights float16-exact; tokenizer/ left out, so the embedded vocabulary is used) and
/// Fixtures/sd_inpaint_expected.safetensors: per case the prompt embeddings, the masked image's latents (posterior
/// sample × s), the initial latents and the float image before 8-bit rounding, for a 96×64 image, 10 steps,
/// guidance 7.5.
enum SDInpaintFixture {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LDMModelsTests/Fixtures/models").path
    static let folder = models + "/sd_inpaint_folder"
    static let compVis = models + "/sd_inpaint_compvis.safetensors"
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd_inpaint_expected.safetensors").path
    static let cases = ["ddim", "ddim-negative", "euler-a", "dpmpp-2m-negative", "pndm"]

    struct Case: Decodable {
        let sampler: String
        let prompt: String
        let negative_prompt: String?
        let seed: UInt64
    }

    static func describe(_ name: String, in file: SafetensorsFile) throws -> Case {
        let text = try #require(file.metadata[name], "no metadata for case \(name); re-run make_sd_inpaint_fixtures.py")
        return try JSONDecoder().decode(Case.self, from: Data(text.utf8))
    }

    /// The input: [H, W, 3] 8-bit values → planar [0, 1] (v / 255 in float32), and the [H, W] mask → [0, 1].
    static func inputs(_ file: SafetensorsFile) throws -> (PlanarImage, [Float]) {
        let image = try file.load("input.image"), mask = try file.load("input.mask")
        let (h, w) = (image.shape[0], image.shape[1])
        let rgb = PipelineParityTests.planar(image.values, width: w, height: h).map { $0 / 255 }
        return (PlanarImage(width: w, height: h, rgb: rgb), mask.values.map { $0 / 255 })
    }

    /// `mine` against the reference's "<name>.<key>": max |Δ| ≤ bound · max(1, max |ref|), NMSE ≤ `nmse`.
    static func check(_ reference: SafetensorsFile, _ name: String, _ key: String, _ mine: Tensor, bound: Double, nmse: Double = 1e-10,
                      log: (String) -> Void) throws {
        let expected = try reference.load("\(name).\(key)")
        #expect(mine.shape == expected.shape, "\(key): \(mine.shape) vs \(expected.shape)")
        let cmp = Comparison(Array(UnsafeBufferPointer(start: mine.data, count: mine.count)), expected.values)
        let scale = max(1, Double(expected.values.map { abs($0) }.max() ?? 0))
        log("\(name) \(key): \(cmp)")
        #expect(cmp.maxAbs <= bound * scale && cmp.nmse <= nmse, "\(name) \(key): \(cmp)")
    }

    /// The decoded image against the reference's "<name>.image" (float 1e-4; 8-bit ±1 on ≤ 0.1 %), then the public
    /// `run` of the same settings: the decoded values inside the mask, the source itself outside.
    /// → the decoded image, planar
    static func checkImage(_ reference: SafetensorsFile, _ name: String, decoded: Tensor, pipeline: InpaintingPipeline, image: PlanarImage,
                           mask: [Float], settings: SamplingSettings, log: (String) -> Void) throws {
        let (w, h) = (image.width, image.height)
        let expected = PipelineParityTests.planar(try reference.load("\(name).image").values, width: w, height: h)
        let mine = ImageTensor.image(decoded, width: w, height: h).rgb
        let cmp = Comparison(mine, expected)
        let (differ, worst) = PipelineParityTests.compare8Bit(mine, expected.map { ($0 * 255).rounded(.toNearestOrEven) }, truncate: false)
        log("\(name) image: \(cmp); 8-bit: \(differ) of \(mine.count) differ, worst \(worst)")
        #expect(cmp.maxAbs < 1e-4, "\(name) image: \(cmp)")
        #expect(worst <= 1 && differ * 1000 <= mine.count, "\(name): \(differ) 8-bit values differ, worst by \(worst)")

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
}

/// Bounds (measured values in docs/testing.md):
/// - prompt embeddings, masked-image latents: as the model parity (NMSE ≤ 1e-10, max |Δ| ≤ 2e-5 · max(1, max |ref|)):
///   one encoder call each in float32 with other summation orders; the latents add one exp and the same ε
///   (TorchGenerator is bit-exact).
/// - initial latents: 1e-6 · max(1, max |ref|) (the same bits × init_noise_sigma, one float32 rounding).
/// - the float image: 1e-4 absolute, as PipelineParityTests: per-call differences of ~1e-6 relative grow through
///   10 steps (guidance multiplies the difference of two ε by 7.5) and the decoder; measured ≤ 2.9e-6. Real
///   mistakes move it by 1e-2 or more (a leading/linspace grid mix-up of Euler a and DPM++ gave 0.12).
/// - 8-bit: diffusers' `(x · 255).round()`, equal but for ±1 on at most 0.1 % of the values.
@Suite struct StableDiffusionInpaintingParityTests {
    static func verbose(_ text: String) {
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY sd-inpaint " + text) }
    }

    static let weights = Result { try ModelWeights.open(SDInpaintFixture.folder) }
    static let model = Result { try LatentDiffusionModel(weights: try weights.get()) }

    @Test(arguments: SDInpaintFixture.cases)
    func matchesDiffusers(_ name: String) throws {
        let reference = try SafetensorsFile(path: SDInpaintFixture.reference)
        let spec = try SDInpaintFixture.describe(name, in: reference)
        let weights = try Self.weights.get()
        let pipeline = try InpaintingPipeline(weights: weights, model: try Self.model.get())
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

        try SDInpaintFixture.check(reference, name, "prompt_embeds", run.context, bound: 2e-5, log: Self.verbose)
        try SDInpaintFixture.check(reference, name, "masked_image_latents", run.encodedLatents, bound: 2e-5, log: Self.verbose)
        try SDInpaintFixture.check(reference, name, "initial_latents", run.initialLatents, bound: 1e-6, log: Self.verbose)
        try SDInpaintFixture.checkImage(reference, name, decoded: run.decoded, pipeline: pipeline, image: image, mask: mask, settings: settings,
                                        log: Self.verbose)
    }

    @Test func unguidedRunsThePromptAloneAndTextIsRequired() throws {
        let weights = try Self.weights.get()
        let pipeline = try InpaintingPipeline(weights: weights, model: try Self.model.get())
        let text = try #require(pipeline.model.text)
        #expect(pipeline.model.defaultSampler == .pndm)
        let ws = Workspace()
        let guided = try text.context(TextPrompt("a cat", guidance: 7.5), workspace: ws)
        let single = try text.context(TextPrompt("a cat", negativePrompt: "ignored", guidance: 1), workspace: ws)
        #expect(guided.shape == [2, 77, 16] && single.shape == [1, 77, 16])
        // The prompt's row is the same with or without guidance.
        #expect(Array(UnsafeBufferPointer(start: guided.data + 77 * 16, count: 77 * 16)) == Array(UnsafeBufferPointer(start: single.data, count: 77 * 16)))
        let image = PlanarImage(width: 32, height: 32, rgb: [Float](repeating: 0.5, count: 3 * 32 * 32))
        let mask = [Float](repeating: 1, count: 32 * 32)
        #expect(throws: PipelineError.promptRequired) { try pipeline.run(image, mask: mask, settings: SamplingSettings(steps: 1, seed: 1)) }
        let unguided = try pipeline.run(image, mask: mask, settings: SamplingSettings(sampler: .ddim, steps: 2, seed: 1, text: TextPrompt("", guidance: 1)))
        #expect(unguided.rgb.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(throws: (any Error).self) {
            _ = try text.context(TextPrompt(Array(repeating: "cat", count: 80).joined(separator: " ")), workspace: ws)
        }
    }
}
