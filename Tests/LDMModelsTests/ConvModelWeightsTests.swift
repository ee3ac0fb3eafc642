import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// Loading models whose first stage is the conv autoencoder: the diffusers-style folder
/// (unet/ + autoencoder/), ldm-edit's canonical file, provenance, and the strict audit.
/// Fixtures: Fixtures/models/conv_{sr,inp}_folder (Scripts/fixtures/make_conv_autoencoder_fixtures.py).
@Suite struct ConvModelWeightsTests {
    let dir: String = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-conv-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test(arguments: [("sr", ModelTask.superResolution, 7), ("inp", .inpainting, 9)])
    func folderOpensWithItsConfigAndProvenance(_ c: (String, ModelTask, Int)) throws {
        let weights = try ModelWeights.open(ConvFixture.folder(c.0))
        #expect(weights.layout == .diffusers && weights.task == c.1)
        #expect(weights.unet.inChannels == c.2 && weights.unet.outChannels == 4)
        #expect(weights.firstStage == .conv(ConvAutoencoderConfig(widths: [8, 16, 16], encoderBlocks: [1, 1, 1], decoderBlocks: [1, 2, 2],
                                                                   latentChannels: 4, scalingFactor: 19.37)))
        #expect(weights.firstStage.latentChannels == 4 && weights.firstStage.downsamplingFactor == 4)
        #expect(weights.parameters.filter { $0.name.hasPrefix("ae.") }.count == 48)
        let provenance = try #require(weights.provenance)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(provenance.utf8)) as? [String: Any])
        #expect(object["made_by"] as? String == "make_conv_autoencoder_fixtures.py" && object["task"] as? String == c.0)
        let summary = CheckpointSummary.describe(weights).joined(separator: "\n")
        #expect(summary.contains("autoencoder: conv-f4") && summary.contains("scaled by 19.37"))
        #expect(summary.contains("  provenance:\n") && summary.contains("    autoencoder_widths: [8,16,16]") && summary.contains("    steps: 0"))
    }

    /// convert → open: identical tensors, configs and provenance, canonical names "ae.…". The weights
    /// are float16 values, so the f16 file is exact too.
    @Test(arguments: [SafetensorsWriter.OutputType.f32, .f16])
    func canonicalFileRoundTrips(_ dtype: SafetensorsWriter.OutputType) throws {
        for kind in ["sr", "inp"] {
            let folder = try ModelWeights.open(ConvFixture.folder(kind))
            let out = dir + "/\(kind).\(dtype.rawValue).safetensors"
            try folder.export(to: out, dtype: dtype)
            let back = try ModelWeights.open(out)
            #expect(back.layout == .canonical && back.task == folder.task)
            #expect(back.unet == folder.unet && back.firstStage == folder.firstStage)
            #expect(back.provenance == folder.provenance && back.provenance != nil)
            #expect(back.sources[0].metadata[ModelWeights.provenanceKey] == folder.provenance)
            #expect(back.schedule.linearEnd == folder.schedule.linearEnd)
            #expect(back.parameters.map(\.name) == folder.parameters.map(\.name))
            #expect(Set(back.sources[0].names) == Set(folder.parameters.map(\.name)))
            for spec in folder.parameters { #expect(try back.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)") }
        }
    }

    /// A VQ model's canonical config is written exactly as before the conv autoencoder (no new key),
    /// so files converted by older ldm-edit and newer ones are the same format.
    @Test func vqCanonicalConfigHasNoConvKey() throws {
        let vq = try ModelWeights.open(ModelWeightsTests.path("sr_diffusers"))
        let out = dir + "/vq.safetensors"
        try vq.export(to: out)
        let text = try #require(try WeightFile.open(out).metadata[ModelWeights.canonicalConfigKey])
        #expect(text.contains("\"autoencoder\":{") && !text.contains("convAutoencoder"))
        #expect(try ModelWeights.open(out).firstStage == vq.firstStage)
        #expect(vq.provenance == nil)
    }

    /// One missing and one mis-shaped autoencoder tensor (and one unexpected): one report with all three,
    /// in the canonical file and in the folder (file keys, unexpected labelled with the component).
    @Test func auditListsEveryAutoencoderProblem() throws {
        let good = try ModelWeights.open(ConvFixture.folder("sr"))
        var entries = good.parameters.map { ($0.name, $0.shape) }
        entries.removeAll { $0.0 == "ae.decoder.up.1.bias" }
        let i = try #require(entries.firstIndex { $0.0 == "ae.encoder.down.0.weight" })
        entries[i].1 = [16, 8, 3, 2]
        entries.append(("ae.encoder.extra.weight", [2]))
        let config = String(decoding: try JSONEncoder().encode(ModelWeights.CanonicalConfig(unet: good.unet, firstStage: good.firstStage, schedule: nil)),
                            as: UTF8.self)
        let broken = dir + "/broken.safetensors"
        try SafetensorsWriter.write(to: broken, entries: entries, dtype: .f32, metadata: [ModelWeights.canonicalConfigKey: config]) { name in
            try Tensor.zeros(entries.first { $0.0 == name }!.1)
        }
        do {
            _ = try ModelWeights.open(broken)
            Issue.record("a broken file loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["ae.decoder.up.1.bias"])
            #expect(audit.mismatched == [.init(name: "ae.encoder.down.0.weight", expected: [16, 8, 3, 3], actual: [16, 8, 3, 2])])
            #expect(audit.unexpected == ["ae.encoder.extra.weight"])
            #expect(error.description.contains("ae.decoder.up.1.bias [16]") && error.description.contains("expected [16, 8, 3, 3], got [16, 8, 3, 2]"))
        }

        // The same damage in a folder's autoencoder/model.safetensors (PyTorch keys).
        let folder = dir + "/folder"
        try FileManager.default.copyItem(atPath: ConvFixture.folder("sr"), toPath: folder)
        let file = try WeightFile.open(ConvFixture.folder("sr") + "/autoencoder/model.safetensors")
        var keys = file.names.map { ($0, file.tensors[$0]!.shape) }
        keys.removeAll { $0.0 == "decoder.up.1.bias" }
        let j = try #require(keys.firstIndex { $0.0 == "encoder.down.0.weight" })
        keys[j].1 = [16, 8, 3, 2]
        keys.append(("encoder.extra.weight", [2]))
        try SafetensorsWriter.write(to: folder + "/autoencoder/model.safetensors", entries: keys, dtype: .f32, metadata: [:]) { name in
            let shape = keys.first { $0.0 == name }!.1
            return file.tensors[name]?.shape == shape ? try file.load(name) : try Tensor.zeros(shape)
        }
        do {
            _ = try ModelWeights.open(folder)
            Issue.record("a broken folder loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["decoder.up.1.bias"])
            #expect(audit.mismatched == [.init(name: "encoder.down.0.weight", expected: [16, 8, 3, 3], actual: [16, 8, 3, 2])])
            #expect(audit.unexpected == ["autoencoder/encoder.extra.weight"])
        }
    }

    /// Configs that describe no model, or folders with the wrong pieces, are refused by name.
    @Test func badFoldersAndConfigsAreRefused() throws {
        func folder(_ name: String, _ edit: (String) throws -> Void) throws -> String {
            let f = dir + "/" + name
            try FileManager.default.copyItem(atPath: ConvFixture.folder("sr"), toPath: f)
            try edit(f)
            return f
        }
        func write(_ json: String, _ path: String) throws { try Data(json.utf8).write(to: URL(fileURLWithPath: path)) }
        func refusal(_ path: String) -> String {
            do { _ = try ModelWeights.open(path); return "opened" } catch { return error.description }
        }
        let wrongClass = try folder("class") { try write(#"{"_class_name": "VQModel", "widths": [8, 16, 16], "encoder_blocks": [1, 1, 1], "decoder_blocks": [1, 2, 2], "latent_channels": 4}"#, $0 + "/autoencoder/config.json") }
        #expect(refusal(wrongClass).contains("_class_name \"VQModel\""))
        let levels = try folder("levels") { try write(#"{"_class_name": "ConvAutoencoder", "widths": [8, 16, 16], "encoder_blocks": [1, 1], "decoder_blocks": [1, 2, 2], "latent_channels": 4}"#, $0 + "/autoencoder/config.json") }
        #expect(refusal(levels).contains("encoder_blocks = [1, 1]; expected one count per width (3)"))
        let scale = try folder("scale") { try write(#"{"_class_name": "ConvAutoencoder", "widths": [8, 16, 16], "encoder_blocks": [1, 1, 1], "decoder_blocks": [1, 2, 2], "latent_channels": 4, "scaling_factor": -1}"#, $0 + "/autoencoder/config.json") }
        #expect(refusal(scale).contains("scaling_factor"))
        let both = try folder("both") { try FileManager.default.copyItem(atPath: ModelWeightsTests.path("sr_diffusers/vqvae"), toPath: $0 + "/vqvae") }
        #expect(refusal(both).contains("both vqvae/ and autoencoder/"))
        let provenance = try folder("provenance") { try write(#"{"ldm_edit_provenance": "a string"}"#, $0 + "/model_index.json") }
        #expect(refusal(provenance).contains("ldm_edit_provenance must be a JSON object"))
        let noProvenance = try folder("none") { try FileManager.default.removeItem(atPath: $0 + "/model_index.json") }
        #expect(try ModelWeights.open(noProvenance).provenance == nil)
    }

    /// The task follows from the U-Net's input width over the first stage's latent width.
    @Test func taskDependsOnTheLatentWidth() {
        #expect(ModelTask(unetInputChannels: 6, latentChannels: 3) == .superResolution)
        #expect(ModelTask(unetInputChannels: 7, latentChannels: 3) == .inpainting)
        #expect(ModelTask(unetInputChannels: 7, latentChannels: 4) == .superResolution)
        #expect(ModelTask(unetInputChannels: 9, latentChannels: 4) == .inpainting)
        #expect(ModelTask(unetInputChannels: 8, latentChannels: 4) == nil)
    }
}
