import LDMModels
import LDMTensor

/// The design's shared core: one latent U-Net and one first stage (VQ or conv autoencoder, behind
/// `FirstStage`), with a task-specific conditioning module plugged in front. Built from checked
/// weights; the conditioning's channels are checked against the U-Net's input width here, before
/// any sampling.
public struct LatentDiffusionModel: Sendable {
    public let unet: UNet
    public let firstStage: FirstStage
    public let task: ModelTask
    /// Stable Diffusion's text conditioning (CLIP tokenizer + text encoder), read by the U-Net's cross-attention;
    /// nil for the LDM families.
    public let text: TextConditioning?
    /// The sampler and steps requests use when they choose none (`SamplingDefault`).
    public let defaultSampling: SamplingDefault
    /// `defaultSampling`'s sampler.
    public var defaultSampler: SamplerKind { defaultSampling.sampler }
    /// The seeds an inpainting request previews when it names no count (`Candidates.modelDefault`); nil: one.
    public let defaultCandidates: Candidates?
    /// For an inpainting model: whether its U-Net sees the mask (`concatenated`) or the known region is blended
    /// in after every step (`blended`: a Stable Diffusion text-to-image model); nil for super-resolution.
    public let inpaintingMethod: InpaintingMethod?
    /// The x4 upscaler's low-res noise augmentation; nil for every other model.
    public let noiseAugmentation: NoiseAugmentation?

    public init(weights: ModelWeights) throws {
        unet = try UNet(weights, config: weights.unet)
        firstStage = try FirstStage(weights, config: weights.firstStage)
        task = weights.task
        inpaintingMethod = task == .inpainting ? InpaintingMethod(unet: weights.unet, latentChannels: weights.firstStage.latentChannels) : nil
        text = try weights.textEncoder.map { try TextConditioning(weights: $0, tokenizer: weights.tokenizer) }
        defaultSampling = SamplingDefault(for: weights)
        defaultCandidates = Candidates.modelDefault(for: weights)
        noiseAugmentation = weights.noiseAugmentation.map(NoiseAugmentation.init)
    }

    /// The classifier-free guidance scale of the model's own pipeline: 9 for the x4 upscaler
    /// (StableDiffusionUpscalePipeline `guidance_scale`), 7.5 for the others (StableDiffusionInpaintPipeline).
    public static func defaultGuidance(for weights: ModelWeights) -> Float {
        weights.noiseAugmentation != nil ? 9 : TextPrompt.defaultGuidance
    }

    /// Throws unless `conditioning` fits this model (task and channel count).
    public func check(_ conditioning: some ConcatConditioning) throws {
        guard conditioning.task == task else { throw PipelineError.wrongTask(model: task, conditioning: conditioning.task) }
        let latent = firstStage.latentChannels
        guard latent + conditioning.channels == unet.config.inChannels else {
            throw PipelineError.channelMismatch(unetInput: unet.config.inChannels, latent: latent,
                                                conditioning: conditioning.channels, task: conditioning.task)
        }
    }

    /// ε for x_t: the U-Net on [x_t, conditioning] (latent first, as the reference concatenates).
    /// - latent: [1, z, h, w], conditioning: [1, c, h, w] → [1, z, h, w]
    public func predictNoise(_ latent: Tensor, conditioning: Tensor, timestep: Float, workspace ws: Workspace) throws -> Tensor {
        let input = try ws.tensor([1, latent.shape[1] + conditioning.shape[1], latent.shape[2], latent.shape[3]])
        try Concat.channels([latent, conditioning], into: input)
        return try unet(input, timesteps: [timestep], workspace: ws)
    }
}
