import Foundation
import LDMModels
import LDMPipelines
import Testing
@testable import LDMEditing

/// What the server lists: the models in a folder and their descriptions, read without loading them.
@Suite struct ModelDescriptionTests {
    @Test func foldersListWeightFilesAndDiffusersFolders() throws {
        let names = ModelLocator.models(in: Fixture.models).map { ($0 as NSString).lastPathComponent }
        #expect(names == names.sorted())
        #expect(names.contains("inp_compvis.ckpt") && names.contains("conv_inp_folder") && names.contains("sr_diffusers"))
        // A folder without model_index.json (a text encoder alone) is not a candidate.
        #expect(!names.contains("clip_text"))
        let scratch = try Fixture.scratch()
        for name in ["a.safetensors", "b.txt", ".hidden.ckpt", "c.CKPT"] { _ = FileManager.default.createFile(atPath: "\(scratch)/\(name)", contents: Data()) }
        #expect(ModelLocator.models(in: scratch).map { ($0 as NSString).lastPathComponent } == ["a.safetensors", "c.CKPT"])
        #expect(ModelLocator.models(in: scratch + "/missing").isEmpty)
    }

    @Test func descriptionsAgreeWithTheLoadedEditor() throws {
        for path in [Fixture.inpaint, Fixture.sr, Fixture.models + "/sd_inpaint_folder", Fixture.models + "/sd_upscale_folder"] {
            let description = try ModelDescription(path: path)
            let editor = try Editor(task: description.task, modelPath: path)
            #expect(description.takesPrompt == editor.takesPrompt, "\(path)")
            #expect(description.defaultSampling == editor.defaultSampling, "\(path)")
            #expect(!description.takesPrompt || description.defaultGuidance == editor.defaultGuidance, "\(path)")
            #expect(description.summary == CheckpointSummary.describe(try ModelWeights.open(path)))
        }
        #expect(try ModelDescription(path: Fixture.sr).task == .upscale)
        let x4 = try ModelDescription(path: Fixture.models + "/sd_upscale_folder")
        #expect(x4.task == .upscale && x4.takesPrompt && x4.defaultGuidance == 9 && x4.defaultSampling == SamplingDefault(sampler: .ddim, steps: 75))
        // The LDM families: DPM-Solver++(2M) Karras, 15 steps for inpainting, 8 for super-resolution
        // (SamplingDefault's measurements); Stable Diffusion its scheduler (PNDM, DDIM here) at diffusers' steps: 50, the x4 upscaler 75.
        #expect(try ModelDescription(path: Fixture.inpaint).defaultSampling == SamplingDefault(sampler: .dpmpp2mKarras, steps: 15))
        #expect(try ModelDescription(path: Fixture.sr).defaultSampling == SamplingDefault(sampler: .dpmpp2mKarras, steps: 8))
        #expect(try ModelDescription(path: Fixture.models + "/sd_inpaint_folder").defaultSampling == SamplingDefault(sampler: .pndm, steps: 50))
        #expect(try ModelDescription(path: Fixture.inpaint).name == "conv_inp_folder")
        #expect(throws: CheckpointError.self) { try ModelDescription(path: Fixture.models + "/clip_text_compvis.safetensors") }
    }
}
