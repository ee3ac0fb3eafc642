import LDMTensor

/// The U-Net's class embedding: a learned row per class label added to the time embedding before any
/// ResBlock reads it (CompVis openaimodel.py `UNetModel`: `label_emb = nn.Embedding(num_classes, time_embed_dim)`,
/// `emb = emb + self.label_emb(y)`; diffusers unet_2d_condition.py: `class_embedding = nn.Embedding(num_class_embeds,
/// time_embed_dim)` with class_embed_type None, `emb = emb + class_emb`). stable-diffusion-x4-upscaler passes its
/// low-res noise level (0 … 350) as the label, 1000 classes.
/// - labels: N integers in 0 ..< count; emb: [N, E] → emb + table[label] per row, in place (float32, as PyTorch)
struct ClassEmbedding: Sendable {
    /// [count, E], as held (16-bit rows widened as they are read).
    let table: WeightTensor
    let count: Int
    let dimension: Int

    init(_ weights: any WeightProvider, _ spec: EmbeddingSpec) throws {
        table = try spec.weight.loadWeight(weights, as: [spec.count, spec.dimension])
        (count, dimension) = (spec.count, spec.dimension)
    }

    func add(labels: [Int], to emb: Tensor, workspace ws: Workspace) throws {
        guard emb.rank == 2, emb.shape[0] == labels.count, emb.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "ClassEmbedding", argument: "emb", expected: "[\(labels.count), \(dimension)]",
                                            actual: emb.shape)
        }
        if let bad = labels.first(where: { !(0..<count).contains($0) }) {
            throw TensorError.invalidArgument(operation: "ClassEmbedding", reason: "class label \(bad) is outside 0 ..< \(count)")
        }
        let row = try ws.tensor([dimension])
        for (i, label) in labels.enumerated() {
            table.widen(elements: label * dimension..<(label + 1) * dimension, into: row.data)
            let out = emb.data + i * dimension
            for j in 0..<dimension { out[j] += row.data[j] }
        }
    }
}
