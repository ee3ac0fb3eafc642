import LDMModels

/// Why a pipeline cannot run: a conditioning and a model that do not fit, an unusable input, a stop
/// request or too little memory. The descriptions speak of the pipeline's own terms (tensors,
/// images, bytes); what to type instead is for the program that called it to say.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    case channelMismatch(unetInput: Int, latent: Int, conditioning: Int, task: ModelTask)
    /// A model for `model` was asked to run a `conditioning` edit.
    case wrongTask(model: ModelTask, conditioning: ModelTask)
    /// A tensor handed to a conditioning has the wrong shape (`expected` in the shape notation of
    /// the doc comments, e.g. "[1, 3, H, W], H and W multiples of 4").
    case shapeMismatch(argument: String, expected: String, actual: [Int])
    /// A mask with `count` values for a width × height image.
    case maskSize(count: Int, width: Int, height: Int)
    /// Reflect padding to `multiple` needs each side longer than the padding it adds.
    case imageTooSmall(width: Int, height: Int, multiple: Int)
    /// `PipelineCallbacks.isCancelled` returned true between two sampling steps.
    case cancelled
    /// Even the smallest tiles need more memory than allowed (bytes); `estimate` is the smallest plan's.
    case memory(needed: Int, budget: Int, estimate: MemoryPlanner.Estimate)
    /// A text-conditioned model (Stable Diffusion) was run without a prompt (an empty prompt is a prompt).
    case promptRequired
    /// A prompt was given to a model that reads no text (the LDM families).
    case promptNotAccepted
    /// The sampler cannot serve this pipeline (`reason` says what it lacks).
    case samplerUnsupported(sampler: String, reason: String)
    /// A low-res noise level outside 0 … `maximum` (the x4 upscaler's max_noise_level, 350).
    case noiseLevel(Int, maximum: Int)
    /// A noise level for a model without noise augmentation (every model but the x4 upscaler).
    case noiseLevelNotAccepted
    /// Coarse-to-fine inpainting was asked of a text-conditioned model (it runs with the LDM inpainting models only).
    case coarseToFineUnsupported
    /// The model at `path` cannot guide the pipeline's model (`ModelGuide`): `reason` says what differs.
    case guideMismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case .channelMismatch(let unet, let latent, let cond, let task):
            "the U-Net takes \(unet) input channels, but the \(task.rawValue) conditioning gives \(cond) + \(latent) latent channels"
        case .wrongTask(let model, let cond):
            "this is \(model.withArticle) model; it cannot run \(cond.rawValue)"
        case .shapeMismatch(let argument, let expected, let actual):
            "the \(argument) must be \(expected), got \(actual)"
        case .maskSize(let count, let width, let height):
            "the mask has \(count) values for a \(width)x\(height) image"
        case .imageTooSmall(let width, let height, let multiple):
            "a \(width)x\(height) image is too small to pad to a multiple of \(multiple)"
        case .cancelled: "stopped on request before finishing"
        case .promptRequired: "this model is conditioned on text and needs a prompt (it may be empty)"
        case .promptNotAccepted: "this model reads no text; a prompt, negative prompt or guidance scale does not apply"
        case .samplerUnsupported(let sampler, let reason): "the \(sampler) sampler cannot be used here: \(reason)"
        case .noiseLevel(let level, let maximum): "the low-res noise level must be 0-\(maximum), got \(level)"
        case .noiseLevelNotAccepted: "this model does not noise its low-res input; a noise level does not apply"
        case .coarseToFineUnsupported: "coarse-to-fine filling of large holes is implemented for the LDM inpainting models only, not text-conditioned ones"
        case .guideMismatch(let path, let reason): "\(path) cannot guide this model: \(reason)"
        case .memory(let needed, let budget, let estimate):
            "needs about \(needed >> 20) MiB even with the smallest tiles, above the \(budget >> 20) MiB allowed: \(estimate)"
        }
    }
}
