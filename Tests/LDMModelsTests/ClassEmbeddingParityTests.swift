import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// The U-Net's class embedding (stable-diffusion-x4-upscaler's noise level as a class label: CompVis `label_emb`,
/// diffusers `class_embedding`) against diffusers `UNet2DConditionModel`. Fixtures by
/// `Scripts/fixtures/make_x4_unet_fixtures.py` (torch 2.15.0, diffusers 0.42.1): Fixtures/parity/x4unet (a 7 → 4
/// channel U-Net with 1000 class embeddings, linear projections, 8 heads; batch 2 with labels [20, 350]) and
/// Fixtures/models/x4unet_compvis.safetensors (the same U-Net in CompVis names). Tolerance: ModelParityTests'.
@Suite struct ClassEmbeddingParityTests {
    static func open() throws -> (ModelWeights, SafetensorsFile) {
        let root = Fixture.path("parity/x4unet")
        let trace = try SafetensorsFile(path: root + "/trace.safetensors")
        try #require(trace.metadata["format_version"] == "1", "re-run Scripts/fixtures/make_x4_unet_fixtures.py")
        return (try ModelWeights.open(root), trace)
    }

    @Test func unetWithClassLabelsMatchesEveryTracedModule() throws {
        let (weights, trace) = try Self.open()
        #expect(weights.unet.classEmbeddings == 1000 && weights.unet.heads == .count(8) && weights.task == .superResolution)
        #expect(weights.unet.crossAttention == .init(contextDim: 24, depth: 1, linearProjection: true))
        let unet = try UNet(weights, config: weights.unet)
        let labels = try trace.load("unet.class_labels").values.map { Int($0) }
        #expect(labels == [20, 350])
        var seen: [String: Tensor] = [:]
        let (x, t, context) = (try trace.load("unet.input"), try trace.load("unet.timestep").values, try trace.load("unet.context"))
        let out = try unet(x, timesteps: t, context: context, classLabels: labels, workspace: Workspace()) { name, tensor in
            seen[name] = try? tensor.copy()
        }
        try ModelParityTests.check("output", out, trace, "unet.output")
        let inputs = ["unet.input", "unet.timestep", "unet.context", "unet.class_labels", "unet.output", "unet.output_without_labels_effect"]
        let traced = trace.names.filter { $0.hasPrefix("unet.") && !inputs.contains($0) }
        #expect(traced.count >= 15)
        try ModelParityTests.checkTraced(traced, prefix: "unet.", seen: seen, trace)
        // Other labels, other rows: label 0 for both images gives diffusers' other output.
        let zero = try unet(x, timesteps: t, context: context, classLabels: [0, 0], workspace: Workspace())
        try ModelParityTests.check("output, labels 0", zero, trace, "unet.output_without_labels_effect")
        #expect(Comparison(zero.values, out.values).maxAbs > 1e-2, "the labels change the result")
    }

    /// Labels are required exactly when the U-Net has a class embedding, one per batch row, inside the table.
    @Test func labelsAreChecked() throws {
        let (weights, trace) = try Self.open()
        let unet = try UNet(weights, config: weights.unet)
        let (x, context) = (try trace.load("unet.input"), try trace.load("unet.context"))
        for labels in [nil, [20], [20, 1000], [-1, 3]] as [[Int]?] {
            #expect(throws: TensorError.self) { try unet(x, timesteps: [1, 2], context: context, classLabels: labels, workspace: Workspace()) }
        }
        let (sd1, sd1Trace) = try SDUNetParityTests.open("sd1")
        #expect(throws: TensorError.self) {
            try UNet(sd1, config: sd1.unet)(try sd1Trace.load("unet.input"), timesteps: [1, 2], context: try sd1Trace.load("unet.context"),
                                            classLabels: [1, 2], workspace: Workspace())
        }
    }

    /// The CompVis file: `label_emb.weight` is detected (1000 rows), with 8 heads as the x4 upscaler (its linear projections
    /// would otherwise mean SD 2's 64 channels per head), and loads the same tensors as the folder.
    @Test func compVisFileDetectsTheClassEmbedding() throws {
        let (folder, _) = try Self.open()
        let compVis = try ModelWeights.open(Fixture.path("models/x4unet_compvis.safetensors"))
        #expect(compVis.layout == .compVis && compVis.task == .superResolution)
        var unet = compVis.unet
        #expect(unet.classEmbeddings == 1000 && unet.heads == .count(8))
        unet.normGroups = folder.unet.normGroups  // not visible in weights (detection assumes 32)
        #expect(unet == folder.unet)
        let name = "unet.label_emb.weight"
        #expect(UNetLayout.parameters(folder.unet).contains { $0.name == name && $0.shape == [1000, 64] })
        #expect(try compVis.tensor(name).values == (try folder.tensor(name).values))
    }

    /// A diffusers config whose class embedding is of another kind (a projection, `class_embed_type`) is refused by name;
    /// `num_class_embeds` out of bounds too.
    @Test func otherClassEmbeddingsAreRefused() throws {
        let path = Fixture.path("parity/x4unet/unet/config.json")
        var json = try DiffusersConfig.load(path)
        json["class_embed_type"] = "timestep"
        #expect(throws: CheckpointError.self) { try DiffusersConfig.unet(json, path: path) }
        json["class_embed_type"] = nil
        json["num_class_embeds"] = 0
        do { _ = try DiffusersConfig.unet(json, path: path); Issue.record("accepted") } catch {
            #expect(error.description.contains("num_class_embeds"))
        }
    }
}
