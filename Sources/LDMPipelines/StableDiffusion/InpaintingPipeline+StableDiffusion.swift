import LDMImageIO
import LDMModels
import LDMTensor

/// What one Stable Diffusion inpainting run computed, for the caller and the parity tests.
struct StableDiffusionRun {
    /// [2, 77, D] ([negative; prompt]) when guided, else [1, 77, D].
    let context: Tensor
    /// [1, z, h, w]: the posterior sample × scaling factor of the masked image (inpainting U-Net) or of the whole
    /// image (blended: the known region's latents).
    let encodedLatents: Tensor
    /// [1, z, h, w]: the initial noise × the sampler's initial σ.
    let initialLatents: Tensor
    /// [1, 3, H', W'] decoded, not clamped (H', W' padded to the size multiple).
    let decoded: Tensor
}

extension InpaintingPipeline {
    /// Stable Diffusion inpainting as diffusers' StableDiffusionInpaintPipeline (0.42.1,
    /// pipeline_stable_diffusion_inpaint.py `__call__`, strength 1): the prompt (and the negative or empty prompt
    /// when guided) encoded; the initial latents drawn first (`prepare_latents`: randn × init_noise_sigma), then
    /// the masked image's posterior sample from the same generator (`prepare_mask_latents`); every step the
    /// U-Net on [x_t (scaled by the sampler), mask, masked-image latents] with the text context, guided by
    /// `ClassifierFreeGuidance` at batch 2; the sampler's own noise from the same generator; decode of z / s.
    /// The image and mask arrive reflect-padded to `sizeMultiple` ([1, 3, H', W'] in [−1, 1], [1, 1, H', W']).
    func stableDiffusion(image padded: Tensor, mask: Tensor, text: TextConditioning, prompt: TextPrompt, settings: SamplingSettings,
                         callbacks: PipelineCallbacks, workspace ws: Workspace) throws -> StableDiffusionRun {
        let firstStage = model.firstStage
        let conditioning = try StableDiffusionInpaintingConditioning(image: padded, mask: mask, firstStage: firstStage.config)
        guard firstStage.latentChannels + conditioning.channels == model.unet.config.inChannels else {
            throw PipelineError.channelMismatch(unetInput: model.unet.config.inChannels, latent: firstStage.latentChannels,
                                                conditioning: conditioning.channels, task: .inpainting)
        }
        let context = try text.context(prompt, workspace: ws)
        ws.releaseAll()
        var loop = DiffusionLoop(model: model, sampler: setup.sampler(settings))
        var generator = TorchGenerator(seed: settings.seed)
        let (lh, lw) = conditioning.latentSize
        let latent = try loop.initialLatent([1, firstStage.latentChannels, lh, lw], generator: &generator)
        let initial = try latent.copy()
        let maskedLatents = try conditioning.maskedImageLatents(firstStage: firstStage, generator: &generator, workspace: ws)
        let cond = try conditioning.conditioning(maskedImageLatents: maskedLatents)
        ws.releaseAll()  // the encoder phase is over
        let denoiser = TextConditionedDenoiser(unet: model.unet, conditioning: cond, context: context, latentHeight: lh,
                                               latentWidth: lw, tiling: settings.tiling)
        let decoded = try loop.run(latent, denoiser: denoiser, prompt: prompt, generator: &generator, tiling: settings.tiling,
                                   callbacks: callbacks, workspace: ws)
        return StableDiffusionRun(context: context, encodedLatents: maskedLatents, initialLatents: initial, decoded: decoded)
    }
}
