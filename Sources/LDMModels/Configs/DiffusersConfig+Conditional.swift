import Foundation

/// Stable Diffusion's `unet/config.json` (diffusers `UNet2DConditionModel`): the cross-attention U-Net.
extension DiffusersConfig {
    /// A `UNet2DConditionModel` config: by `_class_name`, or by its cross-attention block types.
    static func isConditional(_ json: [String: Any], downTypes: [String]) -> Bool {
        (json["_class_name"] as? String) == "UNet2DConditionModel" || downTypes.contains { $0.hasPrefix("CrossAttn") }
    }

    /// SD 1.5 (runwayml stable-diffusion-inpainting unet/config.json): block_out_channels [320, 640, 1280, 1280],
    /// down_block_types CrossAttnDownBlock2D ×3 + DownBlock2D, attention_head_dim 8, cross_attention_dim 768,
    /// use_linear_projection false (absent). SD 2.x: attention_head_dim [5, 10, 20, 20], 1024, true.
    ///
    /// Heads: UNet2DConditionModel reads `attention_head_dim` as the HEAD COUNT when `num_attention_heads` is
    /// absent (a known misnomer, kept for SD 1's configs; unet_2d_condition.py). One number is a count at every
    /// width (CompVis `num_heads`, SD 1); a list gives each level's count, which CompVis expresses as
    /// `num_head_channels` when every level's width over its count is the same d (SD 2: 64); the mid block
    /// uses the last level's count, as diffusers does.
    ///
    /// `num_class_embeds` (stable-diffusion-x4-upscaler: 1000) is CompVis' `num_classes`: a class embedding added to the
    /// time embedding (`UNetConfig.classEmbeddings`).
    /// `only_cross_attention` (one bool, or one per down block; the x4 upscaler: [true, true, true, false]) and
    /// `mid_block_only_cross_attention` (nil: the bool's value, else false, as unet_2d_condition.py) make the
    /// transformer blocks' first attention attend to the context (`UNetConfig.CrossAttention.onlyCrossAttention`).
    ///
    /// Refused, naming the field: anything that adds inputs or changes the computation beyond CompVis'
    /// SD 1.x/2.x U-Net (other class embedding types, addition embeddings, encoder_hid_dim, time_cond_proj_dim, other mid block,
    /// dual cross-attention, attention_type other than "default", conv kernels other than 3, output scale
    /// factors other than 1,
    /// per-block transformer depths that differ, reverse depths). `upcast_attention` (SD 2.1) only asks for
    /// float32 attention, which ldm-edit always computes in.
    static func conditionalUNet(_ json: [String: Any], path: String, inChannels: Int, outChannels: Int, widths: (first: Int, mult: [Int]),
                                downTypes: [String]) throws(CheckpointError) -> UNetConfig {
        func fail(_ r: String) -> CheckpointError { .unsupportedModel(path: path, reason: r) }
        for key in ["class_embed_type", "addition_embed_type", "encoder_hid_dim", "time_cond_proj_dim",
                    "projection_class_embeddings_input_dim", "reverse_transformer_layers_per_block", "time_embedding_dim",
                    "timestep_post_act", "encoder_hid_dim_type", "addition_time_embed_dim", "cross_attention_norm"] {
            if let v = json[key], !(v is NSNull) { throw fail("\(key) = \(text(v)) (Stable Diffusion 1.x/2.x have none)") }
        }
        for (key, allowed) in [("mid_block_type", "UNetMidBlock2DCrossAttn"), ("attention_type", "default"), ("time_embedding_act_fn", "")] {
            if let v = json[key], !(v is NSNull), (v as? String) != allowed || allowed.isEmpty {
                throw fail("\(key) = \(text(v)) (supported: \(allowed.isEmpty ? "none" : allowed))")
            }
        }
        for key in ["dual_cross_attention", "resnet_skip_time_act", "class_embeddings_concat"] {
            if let v = json[key], !(v is NSNull), (v as? Bool) != false { throw fail("\(key) = \(text(v)) (supported: false)") }
        }
        for key in ["resnet_out_scale_factor", "mid_block_scale_factor"] {
            if let x = try double(json, key, path: path), x != 1 { throw fail("\(key) = \(x) (supported: 1)") }
        }
        for key in ["conv_in_kernel", "conv_out_kernel"] {
            if let k = try int(json, key, path: path), k != 3 { throw fail("\(key) = \(k) (supported: 3)") }
        }
        if let padding = try int(json, "downsample_padding", path: path), padding != 1 { throw fail("downsample_padding = \(padding) (supported: 1)") }
        let down = ["CrossAttnDownBlock2D", "DownBlock2D"]
        guard downTypes.allSatisfy(down.contains) else { throw fail("down_block_types = \(text(downTypes)) (supported: \(down.joined(separator: ", ")))") }
        let levels = widths.mult.count
        let expectedUp = downTypes.reversed().map { $0 == "DownBlock2D" ? "UpBlock2D" : "CrossAttnUpBlock2D" }
        if let up = json["up_block_types"] as? [String], up != expectedUp {
            throw .invalidConfig(path: path, field: "up_block_types", value: text(up), expected: "\(text(expectedUp)) (the mirror of down_block_types)")
        }
        guard let contextDim = try int(json, "cross_attention_dim", path: path) else {
            throw .invalidConfig(path: path, field: "cross_attention_dim", value: text(json["cross_attention_dim"] ?? NSNull()),
                                 expected: "one integer (SD 1.x: 768)")
        }
        let depth: Int
        switch json["transformer_layers_per_block"] {
        case nil, is NSNull: depth = 1
        case let n as Int: depth = n
        case let list as [Int] where !list.isEmpty && Set(list).count == 1: depth = list[0]
        case let other?: throw .invalidConfig(path: path, field: "transformer_layers_per_block", value: text(other),
                                              expected: "one integer, or the same at every level")
        }
        let headsKey = json["num_attention_heads"].map { $0 is NSNull } == false ? "num_attention_heads" : "attention_head_dim"
        let heads: UNetConfig.Heads
        switch json[headsKey] {
        case nil, is NSNull: heads = .count(8)
        case let n as Int: heads = .count(n)
        case let list as [Int] where list.count == levels && list.allSatisfy({ $0 >= 1 }):
            let perHead = zip(widths.mult, list).map { widths.first * $0.0 / $0.1 }
            guard let d = perHead.first, zip(widths.mult, list).allSatisfy({ widths.first * $0.0 == $0.1 * d }) else {
                throw .invalidConfig(path: path, field: headsKey, value: text(list),
                                     expected: "per-level head counts splitting every width into heads of one size (SD 2: 64 channels)")
            }
            heads = .channelsPerHead(d)
        case let other?: throw .invalidConfig(path: path, field: headsKey, value: text(other), expected: "a head count, or one per level")
        }
        var onlyCross: [Bool]?, middleOnlyCross: Bool?
        switch json["only_cross_attention"] {
        case nil, is NSNull: break
        case let flag as Bool:
            if flag { (onlyCross, middleOnlyCross) = (Array(repeating: true, count: levels), true) }
        case let list as [Bool] where list.count == levels:
            if list.contains(true) { onlyCross = list }
        case let other?: throw .invalidConfig(path: path, field: "only_cross_attention", value: text(other),
                                              expected: "true, false, or one per down block (\(levels))")
        }
        switch json["mid_block_only_cross_attention"] {
        case nil, is NSNull: break
        case let flag as Bool: middleOnlyCross = flag ? true : nil
        case let other?: throw .invalidConfig(path: path, field: "mid_block_only_cross_attention", value: text(other), expected: "true or false")
        }
        let cross = UNetConfig.CrossAttention(contextDim: contextDim, depth: depth,
                                              linearProjection: (json["use_linear_projection"] as? Bool) ?? false,
                                              onlyCrossAttention: onlyCross, middleOnlyCrossAttention: middleOnlyCross)
        var config = UNetConfig(
            inChannels: inChannels, outChannels: outChannels, modelChannels: widths.first, channelMult: widths.mult,
            numResBlocks: try int(json, "layers_per_block", path: path) ?? 2,
            attentionLevels: downTypes.enumerated().filter { $0.element == "CrossAttnDownBlock2D" }.map(\.offset),
            heads: heads, resblockUpdown: false,
            normGroups: try int(json, "norm_num_groups", path: path) ?? 32, normEps: try double(json, "norm_eps", path: path) ?? 1e-5,
            crossAttention: cross)
        // `num_class_embeds` with class_embed_type None: an nn.Embedding added to the time embedding (x4 upscaler: 1000).
        config.classEmbeddings = try int(json, "num_class_embeds", path: path)
        return try config.validated(path: path, spelling: .diffusers)
    }
}
