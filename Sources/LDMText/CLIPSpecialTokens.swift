/// The special tokens of a CLIP tokenizer: start, end, unknown and padding, and which of them a
/// prompt may spell out after normalization (lower-casing) rather than only verbatim.
///
/// A diffusers `tokenizer/` folder states them in `tokenizer_config.json` / `special_tokens_map.json`
/// (`CLIPVocabulary(folder:)` reads them); the presets reproduce the released folders for the
/// single-file checkpoints, which carry none.
public struct CLIPSpecialTokens: Sendable, Equatable {
    public var start: String
    public var end: String
    public var unknown: String
    public var pad: String
    /// Contents matched in the normalized text (an `AddedToken` with `"normalized": true` that no
    /// later declaration of the same content overrides); the others only verbatim.
    public var normalized: Set<String>

    public init(start: String = "<|startoftext|>", end: String = "<|endoftext|>", unknown: String = "<|endoftext|>",
                pad: String = "<|endoftext|>", normalized: Set<String> = []) {
        self.start = start
        self.end = end
        self.unknown = unknown
        self.pad = pad
        self.normalized = normalized
    }

    /// Stable Diffusion 1.x (`tokenizer/` of runwayml/stable-diffusion-inpainting, from
    /// openai/clip-vit-large-patch14): pads with <|endoftext|> (49407). Its start token is a
    /// normalized `AddedToken`; the end token, redeclared as the plain-string pad, is not.
    public static let stableDiffusion1 = CLIPSpecialTokens(normalized: ["<|startoftext|>"])

    /// Stable Diffusion 2.x (`tokenizer/` of stabilityai/stable-diffusion-2-inpainting): pads with "!"
    /// (id 0, as open_clip pads with 0), which makes "!" a special token; start and end are normalized.
    public static let stableDiffusion2 = CLIPSpecialTokens(pad: "!", normalized: ["<|startoftext|>", "<|endoftext|>"])

    /// The declarations in the order the reference adds them (transformers' `_post_init`: start,
    /// end, unknown, pad); a later one with the same content replaces an earlier one.
    var contents: [String] { [start, end, unknown, pad] }
}
