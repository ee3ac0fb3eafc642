import Foundation

/// Reading diffusers `config.json` files (UNet2DModel, VQModel, and the conv autoencoder's, which
/// follows the same folder convention) into our configs, refusing options that would change the
/// computation in ways ldm-edit does not implement. `package` for the `config` fuzz target.
package enum DiffusersConfig {
    static func load(_ path: String) throws(CheckpointError) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "missing or unreadable")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw .unsupportedModel(path: path, reason: "config.json is not a JSON object")
        }
        return dict
    }

    /// An integer field: nil when absent or null (the caller's default applies); refused by name when
    /// present as anything else (a string, a fraction, a list such as SD 2's per-block
    /// `attention_head_dim`, or a number beyond Int), which would otherwise fall back to the default silently.
    static func int(_ json: [String: Any], _ key: String, path: String) throws(CheckpointError) -> Int? {
        guard let value = json[key], !(value is NSNull) else { return nil }
        guard let n = value as? Int else { throw .invalidConfig(path: path, field: key, value: text(value), expected: "an integer") }
        return n
    }

    /// A number field, as `int`.
    static func double(_ json: [String: Any], _ key: String, path: String) throws(CheckpointError) -> Double? {
        guard let value = json[key], !(value is NSNull) else { return nil }
        guard let x = value as? Double else { throw .invalidConfig(path: path, field: key, value: text(value), expected: "a number") }
        return x
    }

    /// `block_out_channels`: present, integers, each a whole multiple of the first (CompVis builds
    /// widths as model_channels × channel_mult). Their ranges are checked by the configs' `validated`.
    /// → (the first width, the multipliers)
    static func widths(_ json: [String: Any], path: String) throws(CheckpointError) -> (first: Int, mult: [Int]) {
        guard let value = json["block_out_channels"] else {
            throw .unsupportedModel(path: path, reason: "config.json lacks block_out_channels")
        }
        guard let widths = value as? [Int], let first = widths.first else {
            throw .invalidConfig(path: path, field: "block_out_channels", value: text(value), expected: "a non-empty list of integers")
        }
        guard ConfigBounds.width.contains(first) else {
            throw .invalidConfig(path: path, field: "block_out_channels", value: "\(widths)",
                                 expected: "widths of \(ConfigBounds.text(ConfigBounds.width)) channels")
        }
        guard widths.allSatisfy({ $0 % first == 0 }) else {
            throw .invalidConfig(path: path, field: "block_out_channels", value: "\(widths)",
                                 expected: "multiples of the first width (CompVis channel_mult)")
        }
        return (first, widths.map { $0 / first })
    }

    /// A JSON value as it would be written in the file (for errors).
    static func text(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [value]) else { return "\(value)" }
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    package static func unet(_ json: [String: Any], path: String) throws(CheckpointError) -> UNetConfig {
        func fail(_ r: String) -> CheckpointError { .unsupportedModel(path: path, reason: r) }
        func require(_ key: String, _ allowed: [String], default value: String) throws(CheckpointError) {
            let v = (json[key] as? String) ?? value
            guard allowed.contains(v) else { throw fail("\(key) = \(v) (supported: \(allowed.joined(separator: ", ")))") }
        }
        guard let inChannels = try int(json, "in_channels", path: path), let outChannels = try int(json, "out_channels", path: path),
              let downTypes = json["down_block_types"] as? [String] else {
            throw fail("config.json lacks in_channels / out_channels / down_block_types")
        }
        let (first, mult) = try widths(json, path: path)
        guard downTypes.count == mult.count else {
            throw .invalidConfig(path: path, field: "down_block_types", value: "\(downTypes)",
                                 expected: "one per block_out_channels width (\(mult.count))")
        }
        try require("time_embedding_type", ["positional"], default: "positional")
        try require("resnet_time_scale_shift", ["default"], default: "default")
        try require("act_fn", ["silu"], default: "silu")
        if (json["flip_sin_to_cos"] as? Bool) == false || ((json["freq_shift"] as? Int) ?? 0) != 0 {
            throw fail("flip_sin_to_cos must be true and freq_shift 0 (the CompVis timestep embedding)")
        }
        if (json["center_input_sample"] as? Bool) == true { throw fail("center_input_sample = true") }
        if isConditional(json, downTypes: downTypes) {
            return try conditionalUNet(json, path: path, inChannels: inChannels, outChannels: outChannels, widths: (first, mult),
                                       downTypes: downTypes)
        }
        let headDim = try int(json, "attention_head_dim", path: path) ?? 8
        // `ldm_edit_num_heads`: written by `ldm-edit convert` for the inpainting family, whose
        // 8 heads at every width a diffusers config cannot express (docs/ldm-spec.md §6.3).
        let heads: UNetConfig.Heads = try int(json, "ldm_edit_num_heads", path: path).map { .count($0) } ?? .channelsPerHead(headDim)
        return try UNetConfig(
            inChannels: inChannels, outChannels: outChannels, modelChannels: first, channelMult: mult,
            numResBlocks: try int(json, "layers_per_block", path: path) ?? 2,
            attentionLevels: downTypes.enumerated().filter { $0.element.hasPrefix("Attn") }.map(\.offset),
            heads: heads, resblockUpdown: (json["downsample_type"] as? String) == "resnet",
            normGroups: try int(json, "norm_num_groups", path: path) ?? 32, normEps: try double(json, "norm_eps", path: path) ?? 1e-5)
            .validated(path: path, spelling: .diffusers)
    }

    package static func autoencoder(_ json: [String: Any], path: String) throws(CheckpointError) -> AutoencoderConfig {
        let (first, mult) = try widths(json, path: path)
        let latent = try int(json, "latent_channels", path: path) ?? 3
        var c = AutoencoderConfig(channels: first, channelMult: mult,
                                  numResBlocks: try int(json, "layers_per_block", path: path) ?? 2, zChannels: latent,
                                  embedDim: try int(json, "vq_embed_dim", path: path) ?? latent,
                                  codebookSize: try int(json, "num_vq_embeddings", path: path) ?? 8192,
                                  midAttention: (json["mid_block_add_attention"] as? Bool) ?? true,
                                  normGroups: try int(json, "norm_num_groups", path: path) ?? 32)
        c.inChannels = try int(json, "in_channels", path: path) ?? 3
        c.outChannels = try int(json, "out_channels", path: path) ?? 3
        return try c.validated(path: path, spelling: .diffusers)
    }

    /// `vae/config.json` of a Stable Diffusion folder (diffusers `AutoencoderKL`; SD 1.5: block_out_channels
    /// [128, 256, 512, 512], layers_per_block 2, latent_channels 4, norm_num_groups 32, scaling_factor 0.18215).
    /// Options that change the computation beyond the CompVis AutoencoderKL are refused: no quant_conv or
    /// post_quant_conv (`use_quant_conv`/`use_post_quant_conv` false), a `shift_factor` (SD3, Flux), another
    /// activation, other block types.
    static func klAutoencoder(_ json: [String: Any], path: String) throws(CheckpointError) -> KLAutoencoderConfig {
        func fail(_ r: String) -> CheckpointError { .unsupportedModel(path: path, reason: r) }
        let name = json["_class_name"] as? String
        guard name == nil || name == "AutoencoderKL" else {
            throw fail("_class_name \"\(name ?? "")\"; vae/ holds an AutoencoderKL (a VQModel goes in vqvae/)")
        }
        guard let widths = json["block_out_channels"] as? [Int], let first = widths.first, first > 0,
              widths.allSatisfy({ $0 % first == 0 }) else {
            throw fail("config.json lacks block_out_channels")
        }
        if let act = json["act_fn"] as? String, act != "silu" { throw fail("act_fn = \(act) (supported: silu)") }
        if (json["use_quant_conv"] as? Bool) == false || (json["use_post_quant_conv"] as? Bool) == false {
            throw fail("use_quant_conv / use_post_quant_conv = false (the CompVis AutoencoderKL has both)")
        }
        if let shift = json["shift_factor"], !(shift is NSNull) { throw fail("shift_factor = \(shift) (SD 1.x has none)") }
        for (key, allowed) in [("down_block_types", "DownEncoderBlock2D"), ("up_block_types", "UpDecoderBlock2D")] {
            if let types = json[key] as? [String], types.contains(where: { $0 != allowed }) {
                throw fail("\(key) = \(types) (supported: \(allowed) at every level)")
            }
        }
        let blocks: Int = (json["layers_per_block"] as? Int) ?? 1
        let latent: Int = (json["latent_channels"] as? Int) ?? 4
        let attention: Bool = (json["mid_block_add_attention"] as? Bool) ?? true
        let groups: Int = (json["norm_num_groups"] as? Int) ?? 32
        let scaling: Double = (json["scaling_factor"] as? Double) ?? 0.18215
        let mult: [Int] = widths.map { $0 / first }
        var c = KLAutoencoderConfig(channels: first, channelMult: mult, numResBlocks: blocks, latentChannels: latent,
                                    midAttention: attention, normGroups: groups, scalingFactor: scaling)
        c.inChannels = (json["in_channels"] as? Int) ?? 3
        c.outChannels = (json["out_channels"] as? Int) ?? 3
        return c
    }

    /// `autoencoder/config.json` as `ConvAutoencoder.save` writes it (Scripts/train/conv_autoencoder.py):
    /// `_class_name` "ConvAutoencoder" and the constructor's numbers.
    static func convAutoencoder(at path: String) throws(CheckpointError) -> ConvAutoencoderConfig {
        let json = try load(path)
        let name = json["_class_name"] as? String
        guard name == "ConvAutoencoder" else {
            throw .unsupportedModel(path: path, reason: "_class_name \(name.map { "\"\($0)\"" } ?? "missing"); autoencoder/ holds a ConvAutoencoder (a VQModel goes in vqvae/)")
        }
        guard let data = FileManager.default.contents(atPath: path),
              let config = try? JSONDecoder().decode(ConvAutoencoderConfig.self, from: data) else {
            throw .unsupportedModel(path: path, reason: "config.json lacks widths / encoder_blocks / decoder_blocks / latent_channels as integers")
        }
        return try config.validated(path: path, spelling: .diffusers)
    }

    /// The `ldm_edit_provenance` object of `folder/model_index.json` as compact JSON text with sorted
    /// keys; nil when there is no model_index.json or no such key. A value that is not an object is refused.
    static func provenance(inFolder folder: String) throws(CheckpointError) -> String? {
        let path = folder + "/model_index.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let value = try load(path)[ModelWeights.provenanceKey] else { return nil }
        guard value is [String: Any], let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            throw .unsupportedModel(path: path, reason: "\(ModelWeights.provenanceKey) must be a JSON object")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
