import Foundation
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// What a Stable Diffusion single file runs, against diffusers 0.42.1's `StableDiffusionInpaintPipeline.from_single_file`
/// with the scheduler swapped by `from_config(pipe.scheduler.config)` (Scripts/fixtures/make_sd_single_file_fixtures.py
/// → Fixtures/sd_single_file_expected.safetensors). A single file names no `timestep_spacing`; diffusers takes the
/// scheduler config of the repository it infers (released in the diffusers-0.6 era, naming none), so Euler, Euler a
/// and DPM-Solver++ run their own default grid (linspace), where the fixture folder (saved by diffusers 0.42, naming
/// "leading") runs leading.
///
/// The small CompVis file itself cannot run: a single file carries no config, and ldm-edit takes SD's released 32
/// GroupNorm groups, which the fixture's 8-wide autoencoder cannot split (diffusers read 4 from the stand-in config
/// repository). So the file is checked in two halves: its weights equal the folder's (StableDiffusionModelTests) and
/// its schedule settings give the same sampler as the folder with the released scheduler_config.json (checked here);
/// that folder then runs against the reference. Bounds as StableDiffusionInpaintingParityTests.
@Suite struct StableDiffusionSingleFileParityTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd_single_file_expected.safetensors").path
    /// The keys of SD 1.x inpainting's released scheduler_config.json (no timestep_spacing, no prediction_type).
    static let releasedKeys: Set<String> = ["_class_name", "beta_end", "beta_schedule", "beta_start", "clip_sample",
                                            "num_train_timesteps", "set_alpha_to_one", "skip_prk_steps", "steps_offset", "trained_betas"]
    /// The fixture folder with its scheduler_config.json cut to the released keys, in a temporary directory
    /// (the caller removes it).
    static func releasedFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-sd-released-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: SDInpaintFixture.folder), to: dir)
        let config = dir.appendingPathComponent("scheduler/scheduler_config.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        try JSONSerialization.data(withJSONObject: json.filter { releasedKeys.contains($0.key) }).write(to: config)
        return dir.path
    }

    struct Grid: Decodable { let timestep_spacing: String; let timesteps: [Int] }

    /// The sampler's training timesteps as integers (Euler's grid is float-valued, integral here).
    static func grid(_ sampler: any DiffusionSampler) -> [Int]? {
        if let s = sampler as? any EulerGridSampler { return s.timesteps.map { Int($0.rounded()) } }
        return (sampler as? any TimestepGridSampler)?.timesteps
    }

    @Test(arguments: ["euler-a", "dpmpp-2m-negative", "euler"])
    func matchesFromSingleFile(_ name: String) throws {
        let reference = try SafetensorsFile(path: Self.reference)
        let spec = try SDInpaintFixture.describe(name, in: reference)
        let grid = try JSONDecoder().decode(Grid.self, from: Data(try #require(reference.metadata[name]).utf8))
        #expect(grid.timestep_spacing == "linspace", "the reference ran \(grid.timestep_spacing)")
        let folder = try Self.releasedFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weights = try ModelWeights.open(folder), singleFile = try ModelWeights.open(SDInpaintFixture.compVis)
        #expect(singleFile.layout == .compVis && weights.layout == .diffusers)
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let text = try #require(pipeline.model.text)
        let sampler = try #require(SamplerKind(rawValue: spec.sampler))
        let prompt = TextPrompt(spec.prompt, negativePrompt: spec.negative_prompt, guidance: 7.5)
        let settings = SamplingSettings(sampler: sampler, steps: 10, seed: spec.seed, text: prompt)
        // The single file's settings give the sampler the released folder gives, on the reference's grid.
        let fileSetup = SamplingSetup(singleFile, defaultSetAlphaToOne: false)
        #expect(Self.grid(fileSetup.sampler(settings)) == grid.timesteps, "single file's step grid")
        #expect(Self.grid(pipeline.setup.sampler(settings)) == grid.timesteps, "released folder's step grid")
        #expect(fileSetup.convention == pipeline.convention && fileSetup.sampler(settings).initialNoiseSigma == pipeline.setup.sampler(settings).initialNoiseSigma)
        let alphas = zip(fileSetup.schedule.alphasCumprod, pipeline.setup.schedule.alphasCumprod).map { abs($0 - $1) }.max() ?? 1
        #expect(alphas <= 1e-7, "ᾱ of the file's buffers vs the folder's β range: \(alphas)")

        // The image and mask are make_sd_inpaint_fixtures.py's, stored with its reference.
        let (image, mask) = try SDInpaintFixture.inputs(try SafetensorsFile(path: SDInpaintFixture.reference))
        let (w, h) = (image.width, image.height)
        let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: pipeline.sizeMultiple)
        let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask), multiple: pipeline.sizeMultiple)
        let run = try pipeline.stableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                               callbacks: .init(), workspace: Workspace())
        try SDInpaintFixture.check(reference, name, "initial_latents", run.initialLatents, bound: 1e-6,
                                   log: StableDiffusionInpaintingParityTests.verbose)
        try SDInpaintFixture.checkImage(reference, name, decoded: run.decoded, pipeline: pipeline, image: image, mask: mask,
                                        settings: settings, log: StableDiffusionInpaintingParityTests.verbose)
    }
}
