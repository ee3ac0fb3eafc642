import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// Stable Diffusion's cross-attention U-Net against diffusers `UNet2DConditionModel`. Fixtures:
/// Fixtures/parity/sd1, sd2 and sd2x (diffusers folders + trace.safetensors) and Fixtures/models/sd1_compvis.safetensors
/// and sd2x_compvis.safetensors,
/// made by `Scripts/fixtures/make_sd_unet_fixtures.py` (torch 2.15.0, diffusers 0.42.1): sd1 is the SD 1.x
/// layout (conv projections, 8 heads, depth 1), sd2 the SD 2.x one (linear projections, 8 channels per
/// head from a per-level `attention_head_dim` list, depth 2), sd2x the x4 upscaler's `only_cross_attention` ([true,
/// false]: level 0's attn1 attends to the context, attn1.to_k/to_v 24 → 16; level 1 and the mid block self-attend);
/// batch 2 with a [2, 77, 24] context.
///
/// `upcast_attention` (SD 2.1, the x4 upscaler) asks diffusers to compute q·k and the softmax in float32 under
/// half precision; ldm-edit computes attention in float32 always, so it changes nothing here (read, not refused).
///
/// Tolerance: ModelParityTests' bounds and reasons (float32 on both sides, different summation orders;
/// diffusers' SDPA and our blocked softmax both scale the scores by d^-½).
@Suite struct SDUNetParityTests {
    static let formatVersion = "1"

    static func open(_ family: String) throws -> (ModelWeights, SafetensorsFile) {
        let root = Fixture.path("parity/\(family)")
        let trace = try SafetensorsFile(path: root + "/trace.safetensors")
        try #require(trace.metadata["format_version"] == formatVersion, "re-run Scripts/fixtures/make_sd_unet_fixtures.py")
        return (try ModelWeights.open(root), trace)
    }

    @Test(arguments: ["sd1", "sd2", "sd2x"])
    func unetMatchesEveryTracedModule(_ family: String) throws {
        let (weights, trace) = try Self.open(family)
        let cross = try #require(weights.unet.crossAttention)
        #expect(cross.linearProjection == (family != "sd1") && cross.depth == (family == "sd2" ? 2 : 1) && cross.contextDim == 24)
        #expect(weights.unet.heads == (family != "sd1" ? .channelsPerHead(8) : .count(8)))
        #expect(cross.onlyCrossAttention == (family == "sd2x" ? [true, false] : nil) && cross.middleOnlyCrossAttention == nil)
        let unet = try UNet(weights, config: weights.unet)
        var seen: [String: Tensor] = [:]
        let out = try unet(try trace.load("unet.input"), timesteps: try trace.load("unet.timestep").values,
                           context: try trace.load("unet.context"), workspace: Workspace()) { name, tensor in seen[name] = try? tensor.copy() }
        try ModelParityTests.check("output", out, trace, "unet.output")
        let inputs = ["unet.input", "unet.timestep", "unet.context", "unet.output"]
        let traced = trace.names.filter { $0.hasPrefix("unet.") && !inputs.contains($0) }
        #expect(traced.count >= 15 && traced.contains { $0.hasSuffix("transformer_blocks.0") })
        try ModelParityTests.checkTraced(traced, prefix: "unet.", seen: seen, trace)
    }

    /// A wrong context (missing, wrong width, wrong batch) is refused before any work; an LDM U-Net refuses one.
    @Test func contextIsChecked() throws {
        let (weights, trace) = try Self.open("sd1")
        let unet = try UNet(weights, config: weights.unet)
        let x = try trace.load("unet.input")
        for context in [nil, try Tensor(shape: [2, 77, 23]), try Tensor(shape: [1, 77, 24])] {
            #expect(throws: TensorError.self) { try unet(x, timesteps: [1, 2], context: context, workspace: Workspace()) }
        }
        let (ldm, ldmTrace) = try ModelParityTests.open("sr")
        #expect(throws: TensorError.self) {
            try UNet(ldm, config: ldm.unet)(try ldmTrace.load("unet.input"), timesteps: [1], context: try Tensor(shape: [1, 77, 24]),
                                            workspace: Workspace())
        }
    }

    @Test func unetIsBitwiseIdenticalForOneAndTwoThreads() throws {
        let (weights, trace) = try Self.open("sd1")
        let unet = try UNet(weights, config: weights.unet)
        let (x, context) = (try trace.load("unet.input"), try trace.load("unet.context"))
        let runs = try [1, 2].map { threads in
            let (values, observed) = try withObservedThreads(threads) {
                try unet(x, timesteps: [981, 21], context: context, workspace: Workspace()).values
            }
            #expect(observed == threads, "threads observed inside the kernels")
            return values
        }
        #expect(runs[0] == runs[1])
    }

    /// One image shared by a guidance batch of contexts (x [1, …], context [2, …]) gives, bit for bit, what the image
    /// repeated gives, and the layers before the first context product ran once: conv_in traced with one row, the
    /// first transformer block with two. sd2x's level 0 attends to the context already in attn1 (repeated before it).
    @Test(arguments: ["sd1", "sd2", "sd2x"])
    func aSharedImageEqualsTheRepeatedBatch(_ family: String) throws {
        let (weights, trace) = try Self.open(family)
        let unet = try UNet(weights, config: weights.unet)
        let (input, context) = (try trace.load("unet.input"), try trace.load("unet.context"))
        let one = try Tensor(shape: [1] + input.shape.dropFirst(), values: Array(input.values[..<(input.count / input.shape[0])]))
        let both = try Tensor(shape: [2] + one.shape.dropFirst(), values: one.values + one.values)
        let repeated = try unet(both, timesteps: [500, 500], context: context, workspace: Workspace()).values
        var rows: [String: Int] = [:]
        let shared = try unet(one, timesteps: [500], context: context, workspace: Workspace()) { name, tensor in rows[name] = tensor.shape[0] }
        #expect(shared.shape == [2, weights.unet.outChannels, input.shape[2], input.shape[3]])
        #expect(zip(shared.values, repeated).filter { $0.bitPattern != $1.bitPattern }.isEmpty && shared.count == repeated.count)
        #expect(rows["conv_in"] == 1)
        #expect(rows["down_blocks.0.attentions.0.transformer_blocks.0"] == 2)
        #expect(rows["conv_out"] == 2)
    }

    /// After one call has sized the workspace, a second call of the same shapes allocates nothing (the transformer
    /// blocks' token rows, fused projections and attention scores all come from the pool and scratch) and
    /// gives the same bits.
    @Test func steadyStateAllocatesNothing() throws {
        let (weights, trace) = try Self.open("sd2")
        let unet = try UNet(weights, config: weights.unet)
        let (x, context) = (try trace.load("unet.input"), try trace.load("unet.context"))
        let ws = Workspace()
        let first = try unet(x, timesteps: [981, 21], context: context, workspace: ws).values
        let allocations = ws.allocations
        let second = try unet(x, timesteps: [981, 21], context: context, workspace: ws).values
        #expect(ws.allocations == allocations, "second call allocated \(ws.allocations - allocations) buffers")
        #expect(first == second)
    }

    /// The same weights in CompVis names (model.diffusion_model.*, one file) are recognised by their layout as
    /// Stable Diffusion 1.x and load to identical tensors. GroupNorm's group count is not in the weights
    /// (detection assumes SD's 32; the fixture has 8).
    @Test func compVisFileLoadsTheSameWeights() throws {
        let (folder, _) = try Self.open("sd1")
        let compVis = try ModelWeights.open(Fixture.path("models/sd1_compvis.safetensors"))
        #expect(compVis.layout == .compVis && compVis.task == .inpainting)
        var unet = compVis.unet
        #expect(unet.normGroups == 32)
        unet.normGroups = folder.unet.normGroups
        #expect(unet == folder.unet)
        for spec in UNetLayout.parameters(folder.unet) {
            #expect(try compVis.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)")
        }
        let summary = CheckpointSummary.describe(compVis).joined(separator: "\n")
        #expect(summary.contains("family: Stable Diffusion 1.x inpainting U-Net (text cross-attention, context width 24, 1 transformer block per attention, conv projections)"))
    }

    /// The x4 upscaler's only-cross attention is read off a CompVis file's shapes (attn1.to_k [16, 24] at level 0).
    @Test func compVisFileWithOnlyCrossAttentionIsDetected() throws {
        let (folder, trace) = try Self.open("sd2x")
        let compVis = try ModelWeights.open(Fixture.path("models/sd2x_compvis.safetensors"))
        var unet = compVis.unet
        // Groups and heads are not in the weights: detection assumes SD's 32 groups and 64 channels per head.
        #expect(unet.normGroups == 32 && unet.heads == .channelsPerHead(64))
        (unet.normGroups, unet.heads) = (folder.unet.normGroups, folder.unet.heads)
        #expect(unet == folder.unet)
        for spec in UNetLayout.parameters(folder.unet) {
            #expect(try compVis.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)")
        }
        let out = try UNet(compVis, config: unet)(try trace.load("unet.input"), timesteps: try trace.load("unet.timestep").values,
                                                  context: try trace.load("unet.context"), workspace: Workspace())
        try ModelParityTests.check("output (CompVis file)", out, trace, "unet.output")
    }

    /// `only_cross_attention` as one bool applies to every level and, unless `mid_block_only_cross_attention` says
    /// otherwise, the mid block (unet_2d_condition.py); a list of the wrong length is refused.
    @Test func onlyCrossAttentionForms() throws {
        var json = try DiffusersConfig.load(Fixture.path("parity/sd2x/unet/config.json"))
        json["only_cross_attention"] = true
        var cross = try #require(try DiffusersConfig.unet(json, path: "c").crossAttention)
        #expect(cross.onlyCrossAttention == [true, true] && cross.middleOnlyCrossAttention == true)
        json["mid_block_only_cross_attention"] = false
        cross = try #require(try DiffusersConfig.unet(json, path: "c").crossAttention)
        #expect(cross.onlyCrossAttention == [true, true] && cross.middleOnlyCrossAttention == nil)
        json["only_cross_attention"] = [false, false]
        cross = try #require(try DiffusersConfig.unet(json, path: "c").crossAttention)
        #expect(cross.onlyCrossAttention == nil, "all false is plain self-attention")
        json["only_cross_attention"] = [true]
        #expect(throws: CheckpointError.self) { try DiffusersConfig.unet(json, path: "c") }
        #expect(cross.onlyCross(level: 0) == false && cross.onlyCross(level: nil) == false)
    }

    /// One missing, one mis-shaped and one unexpected transformer tensor in a diffusers unet/: all three in one error.
    @Test func auditListsEveryProblemAtOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-sd-audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Fixture.path("parity/sd1"), toPath: dir)
        let path = dir + "/unet/diffusion_pytorch_model.safetensors"
        let file = try WeightFile.open(Fixture.path("parity/sd1/unet/diffusion_pytorch_model.safetensors"))
        let block = "down_blocks.0.attentions.1.transformer_blocks.0."
        var entries = file.names.filter { $0 != block + "attn2.to_v.weight" }.map { ($0, file.tensors[$0]!.shape) }
        let i = try #require(entries.firstIndex { $0.0 == block + "attn2.to_k.weight" })
        entries[i].1 = [16, 25]
        entries.append((block + "attn3.to_q.weight", [16, 16]))
        try FileManager.default.removeItem(atPath: path)
        try SafetensorsWriter.write(to: path, entries: entries, dtype: .f16, metadata: [:]) { name in
            file.tensors[name].map { $0.shape } == entries.first { $0.0 == name }!.1 ? try file.load(name)
                : try Tensor.zeros(entries.first { $0.0 == name }!.1)
        }
        do {
            _ = try ModelWeights.open(dir)
            Issue.record("a broken folder loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_v.weight"])
            #expect(audit.mismatched.map(\.name) == ["down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight"])
            #expect(audit.unexpected.contains { $0.contains("attn3.to_q.weight") } && audit.unexpected.count == 1)
        }
    }

    /// The released configs as diffusers ships them: SD 1.5 inpainting's unet/config.json (the original short form)
    /// reads as `.sd15Inpainting`; SD 2 inpainting's per-level head counts [5, 10, 20, 20] as 64 channels per head.
    @Test func releasedConfigsRead() throws {
        let sd15 = """
            {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu", "attention_head_dim": 8,
             "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 9, "layers_per_block": 2,
             "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
            """
        let json = try #require(try JSONSerialization.jsonObject(with: Data(sd15.utf8)) as? [String: Any])
        #expect(try DiffusersConfig.unet(json, path: "unet/config.json") == .sd15Inpainting)
        var sd2 = json
        sd2["attention_head_dim"] = [5, 10, 20, 20]
        sd2["use_linear_projection"] = true
        sd2["cross_attention_dim"] = 1024
        sd2["upcast_attention"] = false
        let config = try DiffusersConfig.unet(sd2, path: "unet/config.json")
        #expect(config.heads == .channelsPerHead(64) && config.crossAttention == .init(contextDim: 1024, depth: 1, linearProjection: true))
    }

    /// diffusers options beyond SD 1.x/2.x are refused by name, not run differently.
    @Test(arguments: [("class_embed_type", "\"projection\""), ("addition_embed_type", "\"text_time\""), ("only_cross_attention", "[true]"),
                      ("attention_head_dim", "[2, 3]"), ("transformer_layers_per_block", "[1, 2]"), ("cross_attention_dim", "null"),
                      ("mid_block_type", "\"UNetMidBlock2DSimpleCrossAttn\""), ("up_block_types", "[\"UpBlock2D\", \"UpBlock2D\"]")])
    func unsupportedConditionalOptionsAreRefused(_ option: (String, String)) throws {
        let config = try DiffusersConfig.load(Fixture.path("parity/sd1/unet/config.json"))
        var json = config
        json[option.0] = try JSONSerialization.jsonObject(with: Data(option.1.utf8), options: .fragmentsAllowed)
        #expect(throws: CheckpointError.self) { try DiffusersConfig.unet(json, path: "unet/config.json") }
        #expect((try? DiffusersConfig.unet(config, path: "unet/config.json")) != nil)
    }
}
