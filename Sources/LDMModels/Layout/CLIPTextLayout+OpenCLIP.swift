/// OpenCLIP's names for the text transformer (open_clip transformer.py `TextTransformer`, `ResidualAttentionBlock`), as
/// a Stable Diffusion 2.x CompVis file stores it under `cond_stage_model.model.` (`FrozenOpenCLIPEmbedder.model`, the
/// whole `open_clip.CLIP` less its visual tower). SD 2 conditions on the penultimate layer through `ln_final`
/// (`layer="penultimate"`), so a file with R resblocks is a canonical encoder of R − 1 layers (24 → 23 for ViT-H/14, as
/// diffusers' `convert_open_clip_checkpoint` makes its text_encoder/); the last resblock is read by nothing.
extension CLIPTextLayout {
    /// Where an SD 2.x CompVis file keeps the text tower.
    public static let openCLIPPrefix = "cond_stage_model.model."

    /// Where an OpenCLIP file keeps one canonical parameter: its key below `openCLIPPrefix` and, for the q, k and v
    /// projections (one `nn.MultiheadAttention`: [q; k; v] in `attn.in_proj_weight` [3C, C] and `attn.in_proj_bias`
    /// [3C]), the rows.
    struct OpenCLIPSource: Sendable, Equatable {
        let key: String
        let rows: Range<Int>?
        /// The shape the file stores under `key`: the canonical one, or the whole fused [3C, ...] for a row range.
        let storedShape: [Int]
    }

    /// Canonical name → OpenCLIP source, for every parameter of the layout.
    var openCLIPSources: [String: OpenCLIPSource] {
        var out: [String: OpenCLIPSource] = [:]
        func module(_ parameters: [ParameterSpec], _ name: String) {
            for spec in parameters {
                let leaf = spec.name.split(separator: ".").last.map(String.init) ?? ""
                out[spec.name] = OpenCLIPSource(key: name + "." + leaf, rows: nil, storedShape: spec.shape)
            }
        }
        out[tokenEmbedding.weight.name] = OpenCLIPSource(key: "token_embedding.weight", rows: nil, storedShape: tokenEmbedding.weight.shape)
        // An nn.Parameter of its own, not an nn.Embedding: no ".weight".
        out[positionEmbedding.weight.name] = OpenCLIPSource(key: "positional_embedding", rows: nil, storedShape: positionEmbedding.weight.shape)
        for (i, layer) in layers.enumerated() {
            let block = "transformer.resblocks.\(i)."
            module(layer.norm1.parameters, block + "ln_1")
            for (j, projection) in layer.qkv.enumerated() {
                for spec in projection.parameters {
                    let fused = spec.shape.count == 1 ? "in_proj_bias" : "in_proj_weight"
                    let rows = spec.shape[0]
                    out[spec.name] = OpenCLIPSource(key: block + "attn." + fused, rows: j * rows..<(j + 1) * rows,
                                                    storedShape: [3 * rows] + spec.shape.dropFirst())
                }
            }
            module(layer.out.parameters, block + "attn.out_proj")
            module(layer.norm2.parameters, block + "ln_2")
            module(layer.fc1.parameters, block + "mlp.c_fc")
            module(layer.fc2.parameters, block + "mlp.c_proj")
        }
        module(finalNorm.parameters, "ln_final")
        return out
    }

    /// Keys (below `openCLIPPrefix`) of a text tower of `layers` + 1 resblocks that SD 2 reads nothing from: the last
    /// resblock, the pooled output's `text_projection` and the contrastive `logit_scale`. Expected in the file, not
    /// "unexpected".
    static func isUnusedOpenCLIP(_ key: String, layers: Int) -> Bool {
        key == "text_projection" || key == "logit_scale" || key.hasPrefix("transformer.resblocks.\(layers).")
    }
}
