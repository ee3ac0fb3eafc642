/// Hyper-parameters of the CLIP text transformer (transformers `CLIPTextConfig`; CompVis
/// `FrozenCLIPEmbedder` wraps the same `CLIPTextModel`).
public struct CLIPTextConfig: Sendable, Codable, Equatable {
    /// The MLP's activation (`hidden_act`).
    public enum Activation: String, Sendable, Codable, Equatable {
        /// x · sigmoid(1.702 x): OpenAI CLIP (ViT-L/14, SD 1.x).
        case quickGELU = "quick_gelu"
        /// Exact erf GELU: OpenCLIP ViT-H/14 (SD 2.x, as diffusers converts it).
        case gelu
    }

    public var vocabSize: Int
    /// Positions (`max_position_embeddings`): the tokenizer pads or truncates prompts to this length.
    public var maxPositions: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// The MLP's hidden width (`intermediate_size`).
    public var intermediate: Int
    public var activation: Activation
    public var layerNormEps: Double

    /// An OpenCLIP text tower (SD 2.x): exact GELU, where OpenAI CLIP (SD 1.x) has quick-GELU. The one field that tells the
    /// two families apart in every format (folder, single file, converted file), and so which tokenizer preset a model
    /// without tokenizer files gets (SD 2 pads with "!").
    public var isOpenCLIP: Bool { activation == .gelu }

    public init(vocabSize: Int, maxPositions: Int, width: Int, layers: Int, heads: Int, intermediate: Int,
                activation: Activation = .quickGELU, layerNormEps: Double = 1e-5) {
        (self.vocabSize, self.maxPositions, self.width, self.layers, self.heads, self.intermediate, self.activation, self.layerNormEps) =
            (vocabSize, maxPositions, width, layers, heads, intermediate, activation, layerNormEps)
    }

    /// openai/clip-vit-large-patch14's text model (SD 1.x `cond_stage_model`, diffusers text_encoder/config.json):
    /// 49408 tokens, 77 positions, width 768, 12 layers of 12 heads, MLP 3072, quick-GELU, LayerNorm eps 1e-5.
    public static let vitL14 = CLIPTextConfig(vocabSize: 49408, maxPositions: 77, width: 768, layers: 12, heads: 12, intermediate: 3072)

    /// Refuses numbers that describe no buildable encoder (naming the field): widths and the MLP 1 to 8192,
    /// heads dividing the width, 1 to 64 layers, 1 to 1024 positions, a vocabulary of 1 to 2^20, eps in (0, 1].
    func validated(path: String) throws(CheckpointError) -> CLIPTextConfig {
        func require(_ ok: Bool, _ field: String, _ value: Int, _ expected: String) throws(CheckpointError) {
            guard ok else { throw .invalidConfig(path: path, field: field, value: "\(value)", expected: expected) }
        }
        try require(ConfigBounds.width.contains(width), "hidden_size", width, "1 to 8192 (ViT-L/14: 768)")
        try require(heads >= 1 && width % heads == 0, "num_attention_heads", heads, "a head count dividing hidden_size \(width)")
        try require((1...64).contains(layers), "num_hidden_layers", layers, "1 to 64 (ViT-L/14: 12)")
        try require(ConfigBounds.width.contains(intermediate), "intermediate_size", intermediate, "1 to 8192 (ViT-L/14: 3072)")
        try require((1...1024).contains(maxPositions), "max_position_embeddings", maxPositions, "1 to 1024 (ViT-L/14: 77)")
        try require(ConfigBounds.codebook.contains(vocabSize), "vocab_size", vocabSize, "1 to 2^20 (ViT-L/14: 49408)")
        guard ConfigBounds.isNormEps(layerNormEps) else {
            throw .invalidConfig(path: path, field: "layer_norm_eps", value: "\(layerNormEps)", expected: "a positive number of at most 1")
        }
        return self
    }
}
