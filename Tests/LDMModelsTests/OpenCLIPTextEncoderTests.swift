import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// Stable Diffusion 2.x's text encoder, OpenCLIP ViT-H/14's text tower as SD 2 reads it (the penultimate layer through
/// `ln_final`), in both forms: a diffusers `text_encoder/` (transformers CLIPTextModel, 23 layers, GELU) and a CompVis
/// single file's `cond_stage_model.model.*` (OpenCLIP names, fused in_proj, 24 resblocks, the last unused). Fixtures from
/// `Scripts/fixtures/make_openclip_text_fixtures.py` (torch 2.15.0, open_clip_torch 3.3.0's `TextTransformer`,
/// transformers 5.24.0): width 32, 4 heads, 4 resblocks (3 layers), MLP 128, two prompts padded with "!" (id 0). The
/// reference is open_clip's modules run as CompVis `FrozenOpenCLIPEmbedder(layer="penultimate")`; the script checks
/// that the converted CLIPTextModel gives the same (max |Δ| 0).
///
/// Tolerance: ModelParityTests' bounds and reasons, as CLIPTextEncoderTests.
@Suite struct OpenCLIPTextEncoderTests {
    static let folder = Fixture.path("models/openclip_text")
    static let singleFile = Fixture.path("models/openclip_text_compvis.safetensors")
    static let tiny = CLIPTextConfig(vocabSize: 99, maxPositions: 77, width: 32, layers: 3, heads: 4, intermediate: 128, activation: .gelu)

    static func trace() throws -> (SafetensorsFile, [[Int]]) {
        let trace = try SafetensorsFile(path: Fixture.path("parity/openclip_text.safetensors"))
        try #require(trace.metadata["format_version"] == "1", "re-run Scripts/fixtures/make_openclip_text_fixtures.py")
        let ids = try trace.load("input_ids")
        let l = ids.shape[1]
        return (trace, (0..<ids.shape[0]).map { row in (0..<l).map { Int(ids.values[row * l + $0]) } })
    }

    @Test func diffusersFolderMatchesOpenCLIPsPenultimateLayer() throws {
        let weights = try CLIPTextWeights.open(Self.folder)
        #expect(weights.config == Self.tiny && weights.config.isOpenCLIP)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let (trace, tokens) = try Self.trace()
        #expect(tokens[0][11] == 0, "padded with \"!\" (id 0)")
        var seen: [String: Tensor] = [:]
        let out = try encoder(tokens: tokens, workspace: Workspace()) { seen[$0] = try? $1.copy() }
        try ModelParityTests.check("penultimate", out, trace, "penultimate")
        let layers = trace.names.filter { $0.hasPrefix("text_model.") }
        #expect(layers.count == 3)
        try ModelParityTests.checkTraced(layers, prefix: "", seen: seen, trace)
    }

    /// The single file: q, k, v are rows of the fused in_proj, the last resblock, text_projection and logit_scale are
    /// read by nothing (and not reported); the weights equal the folder's, and the encoder the reference.
    @Test func singleFileHoldsTheSameEncoder() throws {
        let file = try CLIPTextWeights.open(Self.singleFile)
        var config = file.config
        // Heads are not in the weights: width / 64 (ViT-H/14's 16 of 1024), 1 for this 32-wide tower.
        #expect(config.heads == 1 && config.activation == .gelu)
        config.heads = Self.tiny.heads
        #expect(config == Self.tiny)
        let folder = try CLIPTextWeights.open(Self.folder)
        for spec in CLIPTextLayout.parameters(Self.tiny) {
            #expect(try file.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)")
        }
        #expect(file.memoryBytes == folder.memoryBytes)
        let (trace, tokens) = try Self.trace()
        let encoder = try CLIPTextEncoder(file, config: config)
        try ModelParityTests.check("penultimate (single file)", try encoder(tokens: tokens, workspace: Workspace()), trace, "penultimate")
    }

    /// One missing, one mis-shaped fused projection and one unexpected tensor: all in one error, the unused last block not among them.
    @Test func auditListsEveryProblemAtOnce() throws {
        let source = try WeightFile.open(Self.singleFile)
        let p = CLIPTextLayout.openCLIPPrefix
        var entries = source.names.filter { $0 != p + "transformer.resblocks.1.mlp.c_proj.bias" }.map { ($0, source.tensors[$0]!.shape) }
        let i = try #require(entries.firstIndex { $0.0 == p + "transformer.resblocks.2.attn.in_proj_weight" })
        entries[i].1 = [64, 32]
        entries.append((p + "transformer.resblocks.0.ln_3.weight", [32]))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-openclip-audit-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(to: path, entries: entries, dtype: .f16, metadata: [:]) { name in
            try Tensor.zeros(entries.first { $0.0 == name }!.1)
        }
        do {
            _ = try CLIPTextWeights.open(path)
            Issue.record("a broken encoder loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == [p + "transformer.resblocks.1.mlp.c_proj.bias"])
            #expect(audit.mismatched == [.init(name: p + "transformer.resblocks.2.attn.in_proj_weight", expected: [96, 32], actual: [64, 32])])
            #expect(audit.unexpected == [p + "transformer.resblocks.0.ln_3.weight"])
        }
    }

    @Test func openCLIPNamesCoverTheLayoutOnce() {
        let layout = CLIPTextLayout(Self.tiny)
        let sources = layout.openCLIPSources
        #expect(Set(sources.keys) == Set(layout.parameters.map(\.name)))
        // q, k, v of a layer share one in_proj_weight and one in_proj_bias; every other key is used once.
        var uses: [String: Int] = [:]
        for source in sources.values { uses[source.key, default: 0] += 1 }
        #expect(uses.filter { $0.value > 1 }.keys.allSatisfy { $0.hasSuffix("attn.in_proj_weight") || $0.hasSuffix("attn.in_proj_bias") })
        #expect(uses.values.filter { $0 == 3 }.count == 2 * Self.tiny.layers)
        #expect(CLIPTextLayout.isUnusedOpenCLIP("transformer.resblocks.3.ln_1.weight", layers: 3))
        #expect(!CLIPTextLayout.isUnusedOpenCLIP("transformer.resblocks.2.ln_1.weight", layers: 3))
    }
}

/// Opt-in: OpenCLIP ViT-H/14's text tower at full size (width 1024, 16 heads, 24 resblocks read as 23 layers, MLP 4096,
/// 49408 tokens), random weights, both forms against open_clip.
///     flock /tmp/ldm-heavy.lock nice -n 10 /tmp/torch-venv/bin/python Scripts/fixtures/make_openclip_text_fixtures.py --full /tmp/ldm-openclip-fullsize
///     LDM_EDIT_OPENCLIP_FULLSIZE_PARITY=/tmp/ldm-openclip-fullsize bash Scripts/test.sh --filter OpenCLIPFullSizeParityTests
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_OPENCLIP_FULLSIZE_PARITY"] != nil))
struct OpenCLIPFullSizeParityTests {
    static let vitH14 = CLIPTextConfig(vocabSize: 49408, maxPositions: 77, width: 1024, layers: 23, heads: 16, intermediate: 4096,
                                       activation: .gelu)

    @Test(arguments: ["text_encoder", "openclip_text_compvis.safetensors"])
    func vitH14MatchesOpenCLIP(_ form: String) throws {
        let root = ProcessInfo.processInfo.environment["LDM_EDIT_OPENCLIP_FULLSIZE_PARITY"] ?? ""
        let weights = try CLIPTextWeights.open(root + "/" + form)
        #expect(weights.config == Self.vitH14)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let trace = try SafetensorsFile(path: root + "/trace.safetensors")
        let ids = try trace.load("input_ids")
        let tokens = (0..<ids.shape[0]).map { row in (0..<ids.shape[1]).map { Int(ids.values[row * ids.shape[1] + $0]) } }
        let clock = ContinuousClock(), start = clock.now
        let out = try encoder(tokens: tokens, workspace: Workspace())
        let cmp = Comparison(out.values, try trace.load("penultimate").values)
        print("full-size OpenCLIP ViT-H/14 (\(form)): max |Δ| \(cmp.maxAbs), NMSE \(cmp.nmse), \(clock.now - start) for 2 prompts")
        try ModelParityTests.check("penultimate", out, trace, "penultimate")
    }
}
