import Foundation

extension ModelWeights {
    /// Writes every parameter under its canonical name (a Stable Diffusion model's text encoder and tokenizer
    /// files included), with the configs in the metadata, so the
    /// file opens again with `ModelWeights.open` without any detection. The
    /// provenance of a training export, when there is one, is kept under `ldm_edit_provenance`.
    /// Writes only what `open` accepts back: the configs are validated first, for a CompVis file's
    /// are detected, not read, and assume CompVis' 32 GroupNorm groups, which need not divide a
    /// synthetic model's widths (`invalidConfig`, naming this model's file).
    public func export(to path: String, dtype: SafetensorsWriter.OutputType = .f32) throws {
        _ = try unet.validated(path: self.path)
        switch firstStage {
        case .vq(let c): _ = try c.validated(path: self.path)
        case .conv(let c): _ = try c.validated(path: self.path, spelling: .canonical(component: "convAutoencoder"))
        case .kl(let c): _ = try c.validated(path: self.path)
        }
        var config = CanonicalConfig(unet: unet, firstStage: firstStage, schedule: schedule, text: textEncoder?.config)
        config.noiseAugmentation = noiseAugmentation
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [
            Self.canonicalConfigKey: String(decoding: try encoder.encode(config), as: UTF8.self),
            "format": "pt", "task": task.rawValue, "converted_from": self.path,
            "weights": emaUsed ? "ema" : "raw",
        ]
        if let provenance { metadata[Self.provenanceKey] = provenance }
        // Stable Diffusion: the text encoder under its canonical names, and the tokenizer folder's files (when the
        // source had one) in the metadata, so the file runs as its source did.
        let text = textEncoder.map { CLIPTextLayout.parameters($0.config) } ?? []
        if let tokenizer = try tokenizerMetadata() { metadata[Self.tokenizerKey] = tokenizer }
        try SafetensorsWriter.write(to: path, entries: (parameters + text).map { ($0.name, $0.shape) }, dtype: dtype, metadata: metadata) { name in
            if let encoder = textEncoder, name.hasPrefix(CLIPTextLayout.prefix) { return try encoder.tensor(name) }
            return try tensor(name)
        }
    }
}
