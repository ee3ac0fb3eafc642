import Foundation

/// Human-readable facts about weight files and models (`ldm-edit inspect` prints them).
public enum CheckpointSummary {
    /// Format, tensor count, dtypes, key prefixes and SHA-256 of one file.
    public static func describe(_ source: any WeightSource, hash: Bool = true) -> [String] {
        var lines = ["file: \(source.path)", "  format: \(source.format), \(source.file.count) bytes, \(source.tensors.count) tensors"]
        var dtypes: [DType: Int] = [:]
        for info in source.tensors.values { dtypes[info.dtype, default: 0] += 1 }
        lines.append("  dtypes: " + dtypes.sorted { $0.value > $1.value }.map { "\($0.key.rawValue) ×\($0.value)" }.joined(separator: ", "))
        var prefixes: [String: Int] = [:]
        for name in source.tensors.keys {
            let parts = name.split(separator: ".")
            prefixes[parts.count > 1 ? String(parts[0]) + "." : name, default: 0] += 1
        }
        lines.append("  key prefixes: " + prefixes.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        if let checkpoint = source as? TorchCheckpoint, !checkpoint.otherTopLevelKeys.isEmpty {
            lines.append("  other top-level entries: " + checkpoint.otherTopLevelKeys.joined(separator: ", "))
        }
        if !source.metadata.isEmpty {
            lines.append("  metadata keys: " + source.metadata.keys.sorted().joined(separator: ", "))
        }
        if hash { lines.append("  sha256: \(SHA256.hex(of: source.file))") }
        return lines
    }

    /// Task, layout, architecture, parameter counts, weight choice and provenance of a loaded model.
    /// The caller may add its own words: `taskNote` after the task (e.g. the command that runs it),
    /// `rawWeightsNote` after "EMA (present, used" (how to choose the raw weights instead).
    public static func describe(_ model: ModelWeights, taskNote: String? = nil, rawWeightsNote: String? = nil) -> [String] {
        let u = model.unet
        let unetCount = UNetLayout.parameters(u).reduce(0) { $0 + $1.shape.reduce(1, *) }
        let firstStageCount = model.firstStage.parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let heads: String = switch u.heads {
        case .count(let n): "\(n) heads"
        case .channelsPerHead(let d): "\(d) channels per head"
        }
        let firstStage: String = switch model.firstStage {
        case .vq(let v):
            "VQ-f\(v.downsamplingFactor), widths \(v.channelMult.map { $0 * v.channels }), codebook \(v.codebookSize)×\(v.embedDim), "
                + (v.midAttention ? "mid attention" : "no mid attention")
        case .conv(let c):
            "conv-f\(c.downsamplingFactor) (no normalisation, continuous latents), widths \(c.widths), ResBlocks \(c.encoderBlocks) / \(c.decoderBlocks), "
                + "\(c.latentChannels) latent channels scaled by \(c.scalingFactor)"
                + (c.decoderAdapterRank.map { ", a rank-\($0) decoder adapter for the sampler's latents" } ?? "")
        case .kl(let k):
            "KL-f\(k.downsamplingFactor), widths \(k.channelMult.map { $0 * k.channels }), \(k.latentChannels) latent channels (posterior mean) "
                + "scaled by \(k.scalingFactor), " + (k.midAttention ? "mid attention" : "no mid attention")
        }
        // The family: the x4 upscaler by its noise augmentation, else the version by the transformer blocks' projections
        // (SD 2.x linear, 1.x convolutions) and the kind by the U-Net's input.
        let kind: String = switch InpaintingMethod(unet: u, latentChannels: model.firstStage.latentChannels) {
        case .concatenated?: " inpainting"
        case .blended?: " text-to-image"
        case nil: ""
        }
        let familyName = model.isNoiseAugmented ? "Stable Diffusion x4 upscaler"
            : (u.crossAttention?.linearProjection == true ? "Stable Diffusion 2.x" : "Stable Diffusion 1.x") + kind
        let family: [String] = u.crossAttention.map { cross in
            ["  family: \(familyName) U-Net (text cross-attention, context width "
                + "\(cross.contextDim), \(cross.depth) transformer block\(cross.depth == 1 ? "" : "s") per attention, "
                + (cross.linearProjection ? "linear" : "conv") + " projections)"]
        } ?? []
        let blended: [String] = InpaintingMethod(unet: u, latentChannels: model.firstStage.latentChannels) == .blended
            ? ["  inpainting: blended (a text-to-image U-Net: the known region is put back into the latent after every step; "
               + "lower quality than an inpainting checkpoint, whose U-Net sees the mask)"] : []
        return [
            "model: \(model.task.rawValue)\(taskNote.map { " (\($0))" } ?? ""), \(model.layout.rawValue) layout",
        ] + family + blended + noiseAugmentation(model) + textEncoder(model) + [
            "  U-Net: \(u.inChannels)→\(u.outChannels) channels, widths \(u.channelMult.map { $0 * u.modelChannels }), "
                + "\(u.numResBlocks) res blocks per level, attention at levels \(u.attentionLevels) + mid (\(heads)), "
                + (u.resblockUpdown ? "ResBlock up/down sampling" : "conv up/down sampling") + ", \(unetCount) parameters",
            "  autoencoder: \(firstStage), \(firstStageCount) parameters",
            "  noise schedule: LDM linear, β \(model.schedule.linearStart) → \(model.schedule.linearEnd) over \(model.schedule.timesteps) steps (\(model.schedule.source))",
            "  prediction: \(model.schedule.prediction.description)",
            "  weights: " + (model.emaPresent ? (model.emaUsed ? "EMA (present, used\(rawWeightsNote.map { "; \($0)" } ?? ""))" : "raw (EMA present, not used)") : "as stored (no EMA copy)"),
            "  parameters: \(model.parameterCount) (\(String(format: "%.1f", Double(model.parameterCount) / 1e6)) M)",
            "  weights in memory: \(model.memoryBytes >> 20) MiB"
                + (model.precision == .asStored ? " (f16/bf16 kept in 16 bits, widened per layer)" : " (widened to float32 at load)"),
        ] + provenance(model.provenance)
    }

    /// The x4 upscaler's low-res noise augmentation line (none for other models).
    static func noiseAugmentation(_ model: ModelWeights) -> [String] {
        guard let a = model.noiseAugmentation, let classes = model.unet.classEmbeddings else { return [] }
        return ["  noise augmentation: the low-res input noised to a level of 0-\(a.maxNoiseLevel) (default \(NoiseAugmentationConfig.defaultNoiseLevel)) "
                + "of its own schedule, β \(a.schedule.linearStart) → \(a.schedule.linearEnd) (\(a.schedule.source)); the level is the U-Net's "
                + "class label (\(classes) classes)"]
    }

    /// The text encoder and tokenizer lines of a Stable Diffusion model (none for the LDM families).
    static func textEncoder(_ model: ModelWeights) -> [String] {
        guard model.unet.crossAttention != nil else { return [] }
        guard let text = model.textEncoder else { return ["  text encoder: none found (it cannot run without one)"] }
        let c = text.config
        return ["  text encoder: \(c.isOpenCLIP ? "OpenCLIP (GELU; SD 2.x reads the penultimate layer)" : "CLIP (quick-GELU)"), width \(c.width), \(c.layers) layers of \(c.heads) heads, \(c.vocabSize) tokens, \(c.maxPositions) positions (\(text.path))",
                "  tokenizer: " + (model.tokenizerFolder ?? (model.tokenizerFiles != nil ? "kept in this file (its source's tokenizer/)"
                                                   : c.isOpenCLIP ? "the embedded CLIP vocabulary, padded with \"!\" (Stable Diffusion 2.x)"
                                                   : "the embedded CLIP vocabulary (Stable Diffusion 1.x)"))]
    }

    /// "  provenance:" and one "    key: value" line per entry of the object (values that are not
    /// strings as compact JSON), or the raw text when it is not a JSON object.
    static func provenance(_ text: String?) -> [String] {
        guard let text else { return [] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return ["  provenance: \(text)"]
        }
        return ["  provenance:"] + object.keys.sorted().map { key in
            let value = object[key]
            if let string = value as? String { return "    \(key): \(string)" }
            let json = value.flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]) }
            return "    \(key): " + (json.map { String(decoding: $0, as: UTF8.self) } ?? "?")
        }
    }
}
