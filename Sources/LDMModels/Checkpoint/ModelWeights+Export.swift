import Foundation

extension ModelWeights {
    /// Writes every parameter under its canonical name, with the configs in the metadata, so the
    /// file opens again with `ModelWeights.open` without any detection. The
    /// provenance of a training export, when there is one, is kept under `ldm_edit_provenance`.
    public func export(to path: String, dtype: SafetensorsWriter.OutputType = .f32) throws {
        let config = CanonicalConfig(unet: unet, firstStage: firstStage, schedule: schedule)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [
            Self.canonicalConfigKey: String(decoding: try encoder.encode(config), as: UTF8.self),
            "format": "pt", "task": task.rawValue, "converted_from": self.path,
            "weights": emaUsed ? "ema" : "raw",
        ]
        if let provenance { metadata[Self.provenanceKey] = provenance }
        try SafetensorsWriter.write(to: path, entries: parameters.map { ($0.name, $0.shape) }, dtype: dtype, metadata: metadata) {
            try tensor($0)
        }
    }
}
