import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// Opening Stable Diffusion 1.x inpainting models (Scripts/fixtures/make_sd_inpaint_fixtures.py): the diffusers folder
/// Fixtures/models/sd_inpaint_folder (unet/, vae/, text_encoder/, scheduler/; tokenizer/ left out) and the same
/// weights as one CompVis single file, and the refusals (docs/robustness.md).
@Suite struct StableDiffusionModelTests {
    static let folder = Fixture.path("models/sd_inpaint_folder")
    static let compVis = Fixture.path("models/sd_inpaint_compvis.safetensors")

    @Test func folderAndSingleFileHoldTheSameModel() throws {
        let folder = try ModelWeights.open(Self.folder), file = try ModelWeights.open(Self.compVis)
        for weights in [folder, file] {
            #expect(weights.task == .inpainting && weights.unet.inChannels == 9 && weights.unet.crossAttention?.contextDim == 16)
            #expect(weights.tokenizerFolder == nil, "no tokenizer/: the embedded vocabulary")
            let text = try #require(weights.textEncoder)
            #expect(text.config.width == 16 && text.config.layers == 2 && text.config.vocabSize == 49408)
            // SD 1.5's scheduler: PNDM, leading, steps_offset 1, ᾱ₀ not forced to 1.
            #expect(weights.schedule.schedulerClass == "PNDMScheduler" && weights.schedule.stepsOffset == 1 && weights.schedule.setAlphaToOne == false)
            #expect(weights.schedule.linearStart == 0.00085 && weights.schedule.linearEnd == 0.012)
            #expect(weights.schedule.prediction == .epsilon)
        }
        #expect(folder.textEncoder?.config.heads == 2)
        // Heads are not in a single file's weights: width / 64 (SD 1.x's 12 of 768), 1 for this 16-wide encoder.
        #expect(file.textEncoder?.config.heads == 1)
        for spec in folder.parameters {
            #expect(try folder.tensor(spec.name).values == file.tensor(spec.name).values, "\(spec.name)")
        }
        let (a, b) = (try #require(folder.textEncoder), try #require(file.textEncoder))
        for spec in CLIPTextLayout.parameters(a.config) { #expect(try a.tensor(spec.name).values == b.tensor(spec.name).values, "\(spec.name)") }
    }

    /// A copy of the folder with one change.
    func folderCopy(_ change: (String) throws -> Void) throws -> String {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sd-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.folder, toPath: copy)
        try change(copy)
        return copy
    }

    @Test func aTextEncoderOfAnotherWidthIsRefusedNamingBoth() throws {
        let copy = try folderCopy { copy in
            try FileManager.default.removeItem(atPath: copy + "/text_encoder")
            try FileManager.default.copyItem(atPath: Fixture.path("models/clip_text/text_encoder"), toPath: copy + "/text_encoder")
        }
        defer { try? FileManager.default.removeItem(atPath: copy) }
        #expect(throws: CheckpointError.textEncoderMismatch(path: copy + "/text_encoder", textWidth: 32, contextDim: 16)) {
            try ModelWeights.open(copy)
        }
    }

    @Test func aTokenizerFolderIsUsedWhenPresentAndAMissingTextEncoderIsNoted() throws {
        let copy = try folderCopy { copy in
            try FileManager.default.copyItem(atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("LDMTextTests/Fixtures/tiny_tokenizer").path, toPath: copy + "/tokenizer")
        }
        defer { try? FileManager.default.removeItem(atPath: copy) }
        #expect(try ModelWeights.open(copy).tokenizerFolder == copy + "/tokenizer")
        try FileManager.default.removeItem(atPath: copy + "/text_encoder")
        let bare = try ModelWeights.open(copy)
        #expect(bare.textEncoder == nil)
        #expect(CheckpointSummary.describe(bare).contains("  text encoder: none found (it cannot run without one)"))
    }

    @Test func aTextToImageCheckpointLoadsForBlendedInpainting() throws {
        // The single file with a 4-channel conv_in: SD's text-to-image U-Net.
        let source = try WeightFile.open(Self.compVis)
        let key = "model.diffusion_model.input_blocks.0.0.weight"
        var entries: [(name: String, shape: [Int])] = []
        var tensors: [String: Tensor] = [:]
        for name in source.tensors.keys.sorted() where (name.hasPrefix("model.") || name.hasPrefix("first_stage_model.") || name.hasPrefix("cond_stage_model.")) && !name.hasSuffix("position_ids") {
            var t = try source.load(name)
            if name == key {
                let (o, i) = (t.shape[0], t.shape[1])
                let cut = try Tensor(shape: [o, 4, 3, 3])
                for oc in 0..<o { for ic in 0..<4 { for k in 0..<9 { cut.data[(oc * 4 + ic) * 9 + k] = t.data[(oc * i + ic) * 9 + k] } } }
                t = cut
            }
            entries.append((name, t.shape))
            tensors[name] = t
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sd-t2i-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(to: path, entries: entries, dtype: .f32, metadata: [:]) { name in
            guard let t = tensors[name] else { throw CheckpointError.missingTensor(path: path, key: name) }
            return t
        }
        let weights = try ModelWeights.open(path)
        #expect(weights.task == .inpainting && weights.unet.inChannels == 4 && weights.textEncoder != nil)
        #expect(InpaintingMethod(unet: weights.unet, latentChannels: 4) == .blended)
        #expect(InpaintingMethod(unet: try ModelWeights.open(Self.compVis).unet, latentChannels: 4) == .concatenated)
        #expect(CheckpointSummary.describe(weights).contains { $0.hasPrefix("  inpainting: blended (a text-to-image U-Net") })
        #expect(!CheckpointSummary.describe(try ModelWeights.open(Self.compVis)).contains { $0.hasPrefix("  inpainting: blended") })
    }

    @Test func aFourChannelUNetWithoutTextIsNotAnInpaintingModel() {
        // Only a text-conditioned U-Net over the latent alone is a (blended) inpainting model; the LDM families' is not.
        #expect(ModelTask(unetInputChannels: 4, latentChannels: 4) == nil)
        #expect(ModelTask(unetInputChannels: 4, latentChannels: 4, textConditioned: true) == .inpainting)
    }
}
