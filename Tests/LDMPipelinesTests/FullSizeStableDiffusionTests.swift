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

    /// The cases of `root/<tag>_expected.safetensors` (those in `cases` it holds) on the model `root/<tag>`, or on `model`
    /// (the same weights in another form).
    static func check(root: String, tag: String, cases: [String], model: String? = nil) throws {
        let reference = try SafetensorsFile(path: root + "/\(tag)_expected.safetensors")
        // LDM_EDIT_SD_FULLSIZE_MODEL: the same weights in another form (a CompVis single file) instead of the folder.
        let weights = try ModelWeights.open(model ?? ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE_MODEL"] ?? root + "/" + tag)
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
            print("full-size \(model == nil ? tag : "\(tag) single file") \(name) image: \(cmp); 8-bit: \(differ) of \(mine.count) differ, worst \(worst); \(clock.now - start)")
            #expect(cmp.maxAbs < 1e-3, "\(name): \(cmp)")
            #expect(worst <= 1 && differ * 1000 <= mine.count, "\(name): \(differ) differ, worst \(worst)")
        }
    }

    /// A full-size single file written from the folder (make_sd_*_fixtures.py --single-file) against that folder: it
    /// opened through the strict audit (missing, unexpected or mis-shaped keys refuse it), holds the folder's parameters
    /// bit for bit, and is detected as the folder's configuration and family, `inspect`'s line included.
    static func checkSingleFile(_ file: ModelWeights, folder: ModelWeights, family: String, prediction: PredictionType) throws {
        #expect(file.layout == .compVis && folder.layout == .diffusers)
        // only_cross_attention at levels without attention is in the folder's config but in no tensor (the x4 upscaler's
        // level 0 says true and has no transformer): compared where it acts.
        func acting(_ u: UNetConfig) -> UNetConfig {
            guard var cross = u.crossAttention else { return u }
            cross.onlyCrossAttention = u.channelMult.indices.map { u.attentionLevels.contains($0) && cross.onlyCross(level: $0) }
            cross.middleOnlyCrossAttention = cross.onlyCross(level: nil)
            var acting = u
            acting.crossAttention = cross
            return acting
        }
        #expect(acting(file.unet) == acting(folder.unet), "U-Net: single file \(file.unet) vs folder \(folder.unet)")
        #expect(file.firstStage == folder.firstStage, "first stage: single file \(file.firstStage) vs folder \(folder.firstStage)")
        #expect(file.task == folder.task)
        #expect(file.textEncoder?.config == folder.textEncoder?.config)
        #expect(file.schedule.prediction == prediction && folder.schedule.prediction == prediction)
        // The sampling settings read (the folder's from scheduler_config.json, the file's as from_single_file infers them);
        // the prediction as compared above (a folder whose config names none is ε by default, the file's family names it).
        var schedule = file.schedule
        (schedule.source, schedule.predictionType) = (folder.schedule.source, folder.schedule.predictionType)
        #expect(schedule == folder.schedule, "single file \(file.schedule) vs folder \(folder.schedule)")
        let line = CheckpointSummary.describe(file).first { $0.contains("family:") } ?? ""
        #expect(line.contains("family: \(family) U-Net"), "\(line)")
        #expect(Set(file.parameters.map(\.name)) == Set(folder.parameters.map(\.name)))
        var differing: [String] = []
        for spec in folder.parameters where try file.tensor(spec.name).values != folder.tensor(spec.name).values { differing.append(spec.name) }
        let (fileText, folderText) = (try #require(file.textEncoder), try #require(folder.textEncoder))
        let textNames = CLIPTextLayout.parameters(folderText.config).map(\.name)
        for name in textNames where try fileText.tensor(name).values != folderText.tensor(name).values { differing.append(name) }
        #expect(differing.isEmpty, "\(differing.count) tensors differ: \(differing.prefix(5))")
        print("full-size single file \(file.path): \(file.parameters.count) + \(textNames.count) text tensors "
              + "(\(file.parameterCount) parameters + the text encoder's) equal to the folder's; \(line)")
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
    static let root = ProcessInfo.processInfo.environment["LDM_EDIT_SD2_FULLSIZE"] ?? ""
    static let singleFile = root + "/sd2_inpaint_full_compvis.safetensors"

    @Test func fullSizeSD2InpaintingMatchesDiffusers() throws {
        try FullSizeStableDiffusionTests.check(root: Self.root, tag: "sd2_inpaint_full", cases: StableDiffusion2InpaintingParityTests.cases)
    }

    /// The same weights as one CompVis single file (`make_sd_inpaint_fixtures.py PATH --family sd2 --full --single-file`,
    /// ≈ 2.6 GB): detected as SD 2.x inpainting, ε-prediction (diffusers infers ε for a 9-channel U-Net), the folder's
    /// tensors, and the folder's reference within the same bounds.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: singleFile)))
    func fullSizeSD2SingleFileMatchesDiffusers() throws {
        try FullSizeStableDiffusionTests.checkSingleFile(try ModelWeights.open(Self.singleFile),
                                                         folder: try ModelWeights.open(Self.root + "/sd2_inpaint_full"),
                                                         family: "Stable Diffusion 2.x inpainting", prediction: .epsilon)
        try FullSizeStableDiffusionTests.check(root: Self.root, tag: "sd2_inpaint_full", cases: StableDiffusion2InpaintingParityTests.cases,
                                               model: Self.singleFile)
    }
}
