import LDMPipelines

/// What a text-conditioned model (Stable Diffusion inpainting) is asked for: the prompt, the negative prompt
/// and the classifier-free guidance scale (diffusers `StableDiffusionInpaintPipeline`'s `prompt`,
/// `negative_prompt`, `guidance_scale`).
///
/// Normalised to what it means, so requests that edit alike are equal: guidance at or below 1 runs the prompt
/// alone (diffusers' `do_classifier_free_guidance` is `guidance_scale > 1`), so it is stored as 1 and without a
/// negative prompt; an empty negative prompt is the unconditional input diffusers uses anyway (nil).
public struct PromptRequest: Sendable, Equatable {
    public let prompt: String
    public let negativePrompt: String?
    public let guidance: Float

    public static let defaultGuidance = TextPrompt.defaultGuidance

    public init(prompt: String, negativePrompt: String? = nil, guidance: Float = defaultGuidance) throws(RequestError) {
        guard guidance.isFinite, guidance >= 0 else { throw .guidance(guidance) }
        self.prompt = prompt
        self.guidance = max(guidance, 1)
        self.negativePrompt = guidance > 1 && negativePrompt?.isEmpty == false ? negativePrompt : nil
    }

    /// The pipeline's form.
    public var textPrompt: TextPrompt { TextPrompt(prompt, negativePrompt: negativePrompt, guidance: guidance) }
}
