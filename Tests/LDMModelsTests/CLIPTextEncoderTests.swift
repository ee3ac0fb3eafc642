import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// The CLIP text encoder against transformers `CLIPTextModel`. Fixtures from
/// `Scripts/fixtures/make_clip_text_fixtures.py` (torch 2.15.0, transformers 5.24.0): a tiny text_encoder/ folder
/// (width 32, 3 layers of 4 heads, quick-GELU), the same weights in CompVis names, and a trace of two padded
/// 77-token prompts (every layer, last_hidden_state, and the final LayerNorm of the penultimate layer).
///
/// Tolerance: ModelParityTests' bounds and reasons (float32 both sides, different summation orders; both
/// mask the future keys exactly and scale the scores by d^-½).
@Suite struct CLIPTextEncoderTests {
    static let folder = Fixture.path("models/clip_text")
    static let tiny = CLIPTextConfig(vocabSize: 99, maxPositions: 77, width: 32, layers: 3, heads: 4, intermediate: 37)

    static func trace() throws -> (SafetensorsFile, [[Int]]) {
        let trace = try SafetensorsFile(path: Fixture.path("parity/clip_text.safetensors"))
        try #require(trace.metadata["format_version"] == "1", "re-run Scripts/fixtures/make_clip_text_fixtures.py")
        let ids = try trace.load("input_ids")
        let l = ids.shape[1]
        return (trace, (0..<ids.shape[0]).map { row in (0..<l).map { Int(ids.values[row * l + $0]) } })
    }

    @Test func encoderMatchesEveryLayer() throws {
        let weights = try CLIPTextWeights.open(Self.folder)
        #expect(weights.config == Self.tiny)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let (trace, tokens) = try Self.trace()
        var seen: [String: Tensor] = [:]
        let out = try encoder(tokens: tokens, workspace: Workspace()) { seen[$0] = try? $1.copy() }
        try ModelParityTests.check("last_hidden_state", out, trace, "last_hidden_state")
        let layers = trace.names.filter { $0.hasPrefix("text_model.") }
        #expect(layers.count == 4)
        try ModelParityTests.checkTraced(layers, prefix: "", seen: seen, trace)
        // SD 2.x's hook: the penultimate layer through the final LayerNorm.
        try ModelParityTests.check("penultimate", try encoder(tokens: tokens, skipLastLayers: 1, workspace: Workspace()), trace, "penultimate")
    }

    /// The causal mask matters: the first prompt's tokens before its padding do not depend on what follows.
    @Test func laterTokensDoNotChangeEarlierOutputs() throws {
        let weights = try CLIPTextWeights.open(Self.folder)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let (_, tokens) = try Self.trace()
        var changed = tokens[0]
        changed[20] = (changed[20] + 1) % 97
        let a = try encoder(tokens: [tokens[0]], workspace: Workspace()).values
        let b = try encoder(tokens: [changed], workspace: Workspace()).values
        #expect(a[0..<(20 * 32)] == b[0..<(20 * 32)])
        #expect(a[(20 * 32)...] != b[(20 * 32)...])
    }

    @Test func steadyStateAllocatesNothing() throws {
        let weights = try CLIPTextWeights.open(Self.folder)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let (_, tokens) = try Self.trace()
        let ws = Workspace()
        let first = try encoder(tokens: tokens, workspace: ws).values
        let allocations = ws.allocations
        #expect(try encoder(tokens: tokens, workspace: ws).values == first)
        #expect(ws.allocations == allocations, "second call allocated \(ws.allocations - allocations) buffers")
    }

    @Test func compVisFileLoadsTheSameWeights() throws {
        let folder = try CLIPTextWeights.open(Self.folder)
        let compVis = try CLIPTextWeights.open(Fixture.path("models/clip_text_compvis.safetensors"))
        // Heads are not in the weights (width / 64 is assumed, ViT-L/14's 12); the rest is read off the shapes.
        var config = compVis.config
        #expect(config.heads == 1)
        config.heads = Self.tiny.heads
        #expect(config == Self.tiny)
        for spec in CLIPTextLayout.parameters(Self.tiny) {
            #expect(try compVis.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)")
        }
    }

    /// One missing, one mis-shaped and one unexpected tensor: all in one error.
    @Test func auditListsEveryProblemAtOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-clip-audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.folder, toPath: dir)
        let path = dir + "/text_encoder/model.safetensors"
        let file = try WeightFile.open(Self.folder + "/text_encoder/model.safetensors")
        var entries = file.names.filter { $0 != "text_model.encoder.layers.1.mlp.fc2.bias" }.map { ($0, file.tensors[$0]!.shape) }
        let i = try #require(entries.firstIndex { $0.0 == "text_model.encoder.layers.2.self_attn.q_proj.weight" })
        entries[i].1 = [32, 31]
        entries.append(("text_model.encoder.layers.3.layer_norm9.weight", [32]))
        try FileManager.default.removeItem(atPath: path)
        try SafetensorsWriter.write(to: path, entries: entries, dtype: .f16, metadata: [:]) { name in
            try Tensor.zeros(entries.first { $0.0 == name }!.1)
        }
        do {
            _ = try CLIPTextWeights.open(dir)
            Issue.record("a broken encoder loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["text_model.encoder.layers.1.mlp.fc2.bias"])
            #expect(audit.mismatched.map(\.name) == ["text_model.encoder.layers.2.self_attn.q_proj.weight"])
            #expect(audit.unexpected == ["text_model.encoder.layers.3.layer_norm9.weight"])
        }
    }

    @Test func layoutAgreesWithTheModel() throws {
        for config in [CLIPTextConfig.vitL14, Self.tiny] {
            let specs = CLIPTextLayout.parameters(config)
            let weights = try LayoutAgreementTests.RecordingWeights(specs)
            _ = try CLIPTextEncoder(weights, config: config)
            LayoutAgreementTests.expectConsumedExactly(specs, weights)
        }
        #expect(CLIPTextLayout.parameters(.vitL14).reduce(0) { $0 + $1.shape.reduce(1, *) } == 123_060_480)
    }

    @Test func badTokensAreRefused() throws {
        let weights = try CLIPTextWeights.open(Self.folder)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        for tokens in [[[Int]](), [[1, 2], [3]], [[99]], [[-1]], [Array(repeating: 1, count: 78)]] {
            #expect(throws: TensorError.self) { try encoder(tokens: tokens, workspace: Workspace()) }
        }
        #expect(throws: TensorError.self) { try encoder(tokens: [[1]], skipLastLayers: 3, workspace: Workspace()) }
    }
}

/// Opt-in: CLIP ViT-L/14's text model (123.06 M parameters), random weights, against transformers.
///     /tmp/torch-venv/bin/python Scripts/fixtures/make_clip_text_fixtures.py --full /tmp/ldm-clip-fullsize
///     LDM_EDIT_CLIP_FULLSIZE_PARITY=/tmp/ldm-clip-fullsize bash Scripts/test.sh --filter CLIPFullSizeParityTests
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_CLIP_FULLSIZE_PARITY"] != nil))
struct CLIPFullSizeParityTests {
    @Test func vitL14MatchesTransformers() throws {
        let root = ProcessInfo.processInfo.environment["LDM_EDIT_CLIP_FULLSIZE_PARITY"] ?? ""
        let weights = try CLIPTextWeights.open(root)
        #expect(weights.config == .vitL14)
        let encoder = try CLIPTextEncoder(weights, config: weights.config)
        let trace = try SafetensorsFile(path: root + "/trace.safetensors")
        let ids = try trace.load("input_ids")
        let tokens = (0..<ids.shape[0]).map { row in (0..<ids.shape[1]).map { Int(ids.values[row * ids.shape[1] + $0]) } }
        for (key, skip) in [("last_hidden_state", 0), ("penultimate", 1)] {
            let out = try encoder(tokens: tokens, skipLastLayers: skip, workspace: Workspace())
            let reference = try trace.load(key)
            let cmp = Comparison(out.values, reference.values)
            print("full-size CLIP \(key): max |Δ| \(cmp.maxAbs), NMSE \(cmp.nmse)")
            try ModelParityTests.check(key, out, trace, key)
        }
    }
}
