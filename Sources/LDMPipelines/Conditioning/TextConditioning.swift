import LDMModels
import LDMTensor
import LDMText

/// What a text-conditioned model is asked for: the prompt, the negative prompt and the guidance scale
/// (diffusers `StableDiffusionInpaintPipeline.__call__`'s `prompt`, `negative_prompt`, `guidance_scale`).
public struct TextPrompt: Sendable, Equatable {
    public var prompt: String
    /// nil: the empty prompt, as diffusers' unconditional input (`uncond_tokens = [""]`).
    public var negativePrompt: String?
    /// Classifier-free guidance scale; diffusers guides only above 1 (`do_classifier_free_guidance`).
    public var guidance: Float

    public static let defaultGuidance: Float = 7.5

    public init(_ prompt: String, negativePrompt: String? = nil, guidance: Float = defaultGuidance) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.guidance = guidance
    }

    /// Whether the U-Net runs the [negative; prompt] pair and mixes (`guidance_scale > 1`).
    public var isGuided: Bool { guidance > 1 }
}

/// Stable Diffusion's text conditioning (CompVis `FrozenCLIPEmbedder`; diffusers pipeline_stable_diffusion_inpaint.py
/// `encode_prompt`): the prompt padded to 77 CLIP tokens, encoded by the CLIP text encoder's last hidden state,
/// and the negative (or empty) prompt the same way when guided. The U-Net reads it through cross-attention.
public struct TextConditioning: Sendable {
    public let encoder: CLIPTextEncoder
    public let tokenizer: CLIPTokenizer

    public init(encoder: CLIPTextEncoder, tokenizer: CLIPTokenizer) {
        self.encoder = encoder
        self.tokenizer = tokenizer
    }

    /// The text encoder of `weights` and the tokenizer of `tokenizer` (a diffusers `tokenizer/` folder, or its files
    /// kept in a converted model), or the embedded CLIP vocabulary when there is none (single files), with SD 1.x's
    /// special tokens, or SD 2.x's (pad "!") for an OpenCLIP encoder.
    public init(weights: CLIPTextWeights, tokenizer: TokenizerSource?) throws {
        let vocabulary: CLIPVocabulary = switch tokenizer {
        case .folder(let path): try CLIPVocabulary(folder: path)
        case .files(let files, let origin): try CLIPVocabulary(files: files, origin: origin)
        case nil: try CLIPVocabulary.embedded(weights.config.isOpenCLIP ? .stableDiffusion2 : .stableDiffusion1)
        }
        self.init(encoder: try CLIPTextEncoder(weights, config: weights.config), tokenizer: CLIPTokenizer(vocabulary: vocabulary))
    }

    /// The token ids of one prompt (77, padded), or `TokenizerError.promptTooLong` with its count.
    public func tokenize(_ prompt: String) throws -> [Int] {
        try tokenizer.tokenize(prompt).ids.map(Int.init)
    }

    /// Tokens `prompt` needs with its start and end tokens (without a limit), and the limit (77).
    public func tokenCount(_ prompt: String) -> Int { tokenizer.encode(prompt).count + 2 }
    public var tokenLimit: Int { tokenizer.vocabulary.maxLength }

    /// The U-Net's context: [2, 77, D] = [negative (or ""); prompt] when guided, else [1, 77, D] (the prompt).
    /// Its own storage (not the workspace's), so it outlives the workspace's phases.
    public func context(_ text: TextPrompt, workspace ws: Workspace) throws -> Tensor {
        let prompt = try tokenize(text.prompt)
        let tokens = text.isGuided ? [try tokenize(text.negativePrompt ?? ""), prompt] : [prompt]
        return try encoder(tokens: tokens, workspace: ws).copy()
    }
}
