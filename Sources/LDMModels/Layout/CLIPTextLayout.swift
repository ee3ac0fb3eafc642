/// The structure of a `CLIPTextConfig`, walked once (transformers `CLIPTextTransformer`): token and
/// position embeddings, `layers` pre-LN encoder layers, the final LayerNorm. Canonical names are
/// `text.` + the module path below `text_model`; a diffusers `text_encoder/` file names them
/// `text_model.…`, a CompVis single file `cond_stage_model.transformer.text_model.…` (`compVisPrefix`).
public struct CLIPTextLayout: Sendable {
    public static let prefix = "text."
    /// Where a CompVis LatentDiffusion file keeps the text encoder (`FrozenCLIPEmbedder.transformer`).
    public static let compVisPrefix = "cond_stage_model.transformer."

    /// One `CLIPEncoderLayer`: x += out_proj(attn(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x)))).
    struct Layer: Sendable {
        let norm1: LayerNormSpec
        /// q_proj, k_proj, v_proj (with biases), fused into one GEMM at build time.
        let qkv: [LinearSpec]
        let out: LinearSpec
        let norm2: LayerNormSpec
        let fc1: LinearSpec
        let fc2: LinearSpec

        /// transformers registration order: self_attn (k, v, q, out), layer_norm1, mlp (fc1, fc2), layer_norm2.
        var parameters: [ParameterSpec] {
            [qkv[1], qkv[2], qkv[0]].flatMap(\.parameters) + out.parameters + norm1.parameters + fc1.parameters
                + fc2.parameters + norm2.parameters
        }
    }

    public let config: CLIPTextConfig
    let tokenEmbedding: EmbeddingSpec
    let positionEmbedding: EmbeddingSpec
    let layers: [Layer]
    let finalNorm: LayerNormSpec
    /// The layers' diffusers names, under which their outputs are traced.
    let layerTraces: [String]

    public init(_ c: CLIPTextConfig) {
        config = c
        let root = ModulePath(name: String(Self.prefix.dropLast()), diffusers: .module(["text_model"]))
        let embeddings = root.child("embeddings")
        tokenEmbedding = EmbeddingSpec(embeddings.child("token_embedding"), count: c.vocabSize, dimension: c.width)
        positionEmbedding = EmbeddingSpec(embeddings.child("position_embedding"), count: c.maxPositions, dimension: c.width)
        let eps = c.layerNormEps, w = c.width
        let paths = (0..<c.layers).map { root.child("encoder.layers.\($0)") }
        layers = paths.map { path in
            let attention = path.child("self_attn"), mlp = path.child("mlp")
            return Layer(norm1: LayerNormSpec(path.child("layer_norm1"), channels: w, eps: eps),
                         qkv: ["q_proj", "k_proj", "v_proj"].map { LinearSpec(attention.child($0), input: w, output: w) },
                         out: LinearSpec(attention.child("out_proj"), input: w, output: w),
                         norm2: LayerNormSpec(path.child("layer_norm2"), channels: w, eps: eps),
                         fc1: LinearSpec(mlp.child("fc1"), input: w, output: c.intermediate),
                         fc2: LinearSpec(mlp.child("fc2"), input: c.intermediate, output: w))
        }
        layerTraces = paths.map(\.trace)
        finalNorm = LayerNormSpec(root.child("final_layer_norm"), channels: w, eps: eps)
    }

    /// The canonical parameter list in module order, with diffusers names.
    public var parameters: [ParameterSpec] {
        tokenEmbedding.parameters + positionEmbedding.parameters + layers.flatMap(\.parameters) + finalNorm.parameters
    }

    public static func parameters(_ c: CLIPTextConfig) -> [ParameterSpec] { CLIPTextLayout(c).parameters }

    /// Buffers a checkpoint may carry that are not parameters (`embeddings.position_ids`, 0 ..< positions).
    static func isIgnoredBuffer(_ key: String) -> Bool { key.hasSuffix("embeddings.position_ids") }
}
