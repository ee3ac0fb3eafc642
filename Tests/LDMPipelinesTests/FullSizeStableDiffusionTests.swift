import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Opt-in: Stable Diffusion 1.5 inpainting's size (random weights) against diffusers' StableDiffusionInpaintPipeline,
/// 512×512, 10 steps, guidance 7.5 (make_sd_inpaint_fixtures.py PATH --full: the ddim and euler-a cases, ≈ 2 GB):
///     LDM_EDIT_SD_FULLSIZE=/tmp/ldm-sd-fullsize bash Scripts/test.sh --filter FullSizeStableDiffusionTests
/// Bounds as the small fixture's, the image at 1e-3 as the other full-size pipelines (more layers, wider sums).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE"] != nil))
struct FullSizeStableDiffusionTests {
    static let root = ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE"] ?? ""

    @Test func fullSizeInpaintingMatchesDiffusers() throws {
        try Self.check(root: Self.root, tag: "sd_inpaint_full", cases: SDInpaintFixture.cases)
    }

    /// The cases of `root/<tag>_expected.safetensors` (those in `cases` it holds) on the model `root/<tag>`.
    static func check(root: String, tag: String, cases: [String]) throws {
        let reference = try SafetensorsFile(path: root + "/\(tag)_expected.safetensors")
        // LDM_EDIT_SD_FULLSIZE_MODEL: the same weights in another form (a CompVis single file) instead of the folder.
        let weights = try ModelWeights.open(ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE_MODEL"] ?? root + "/" + tag)
        let clock = ContinuousClock()
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let text = try #require(pipeline.model.text)
        let (image, mask) = try SDInpaintFixture.inputs(reference)
        let (w, h) = (image.width, image.height)
        // LDM_EDIT_SD_FULLSIZE_CASES=ddim runs a subset (each case is minutes of CPU).
        let only = ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE_CASES"].map { Set($0.split(separator: ",").map(String.init)) }
        for name in cases where reference.metadata[name] != nil && only.map({ $0.contains(name) }) ?? true {
            let start = clock.now
            let spec = try SDInpaintFixture.describe(name, in: reference)
            let prompt = TextPrompt(spec.prompt, negativePrompt: spec.negative_prompt, guidance: 7.5)
            let settings = SamplingSettings(sampler: try #require(SamplerKind(rawValue: spec.sampler)), steps: 10, seed: spec.seed, text: prompt)
            let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: pipeline.sizeMultiple)
            let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask), multiple: pipeline.sizeMultiple)
            let run = try pipeline.stableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                                   callbacks: .init(), workspace: Workspace())
            for (key, mine) in [("prompt_embeds", run.context), ("masked_image_latents", run.encodedLatents)] {
                let expected = try reference.load("\(name).\(key)").values
                let cmp = Comparison(Array(UnsafeBufferPointer(start: mine.data, count: mine.count)), expected)
                print("full-size \(tag) \(name) \(key): \(cmp)")
                #expect(cmp.maxAbs <= 2e-5 * max(1, Double(expected.map { abs($0) }.max() ?? 0)), "\(name) \(key): \(cmp)")
            }
            let expected = PipelineParityTests.planar(try reference.load("\(name).image").values, width: w, height: h)
            let mine = ImageTensor.image(run.decoded, width: w, height: h).rgb
            let cmp = Comparison(mine, expected)
            let (differ, worst) = PipelineParityTests.compare8Bit(mine, expected.map { ($0 * 255).rounded(.toNearestOrEven) }, truncate: false)
            print("full-size \(tag) \(name) image: \(cmp); 8-bit: \(differ) of \(mine.count) differ, worst \(worst); \(clock.now - start)")
            #expect(cmp.maxAbs < 1e-3, "\(name): \(cmp)")
            #expect(worst <= 1 && differ * 1000 <= mine.count, "\(name): \(differ) differ, worst \(worst)")
        }
    }
}

/// Opt-in: Stable Diffusion 2 inpainting's size (random weights: U-Net 320/640/1280/1280 with linear projections and
/// 64-channel heads, context 1024, OpenCLIP ViT-H/14 text read at its penultimate layer, KL f8) against diffusers'
/// StableDiffusionInpaintPipeline at 256×256 (not 512²: CPU time), 10 steps, guidance 7.5:
///     flock /tmp/ldm-heavy.lock nice -n 10 /tmp/torch-venv/bin/python Scripts/fixtures/make_sd_inpaint_fixtures.py /tmp/ldm-sd2-fullsize --family sd2 --full
///     LDM_EDIT_SD2_FULLSIZE=/tmp/ldm-sd2-fullsize bash Scripts/test.sh --filter FullSizeStableDiffusion2Tests
/// Bounds as `FullSizeStableDiffusionTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_SD2_FULLSIZE"] != nil))
struct FullSizeStableDiffusion2Tests {
    @Test func fullSizeSD2InpaintingMatchesDiffusers() throws {
        try FullSizeStableDiffusionTests.check(root: ProcessInfo.processInfo.environment["LDM_EDIT_SD2_FULLSIZE"] ?? "", tag: "sd2_inpaint_full",
                                               cases: StableDiffusion2InpaintingParityTests.cases)
    }
}
