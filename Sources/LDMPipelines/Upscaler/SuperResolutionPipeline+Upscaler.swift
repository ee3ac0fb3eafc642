import LDMModels
import LDMTensor

/// What one x4-upscaler run computed, for the caller and the parity tests.
struct UpscalerRun {
    /// [2, 77, D] ([negative; prompt]) when guided, else [1, 77, D].
    let context: Tensor
    /// [1, 3, h, w]: the low-res image after noise augmentation (what the U-Net sees beside the latent).
    let augmentedImage: Tensor
    /// [1, z, h, w]: the initial noise × the sampler's initial σ.
    let initialLatents: Tensor
    /// [1, 3, 4h, 4w] decoded, not clamped.
    let decoded: Tensor
}

extension SuperResolutionPipeline {
    /// stable-diffusion-x4-upscaler as diffusers' StableDiffusionUpscalePipeline (0.42.1,
    /// pipeline_stable_diffusion_upscale.py `__call__`): the prompt (and the negative or empty prompt when guided)
    /// encoded; from one generator, first the augmentation noise `randn(image.shape)` and the low-res image noised to
    /// `noise_level` (`low_res_scheduler.add_noise`), then the initial latents at the image's size (`prepare_latents`:
    /// randn × init_noise_sigma), then the sampler's own noise; every step the U-Net on [x_t (scaled by the sampler),
    /// noised image] with the text context and the noise level as class label, guided by `ClassifierFreeGuidance` at
    /// batch 2; decode of z / s by the KL-f4 first stage (4× the pixels).
    /// - padded: the low-res image [1, 3, h, w] in [−1, 1], reflect-padded to `sizeMultiple`
    func upscale(lowResolution padded: Tensor, augmentation: NoiseAugmentation, text: TextConditioning, prompt: TextPrompt,
                 settings: SamplingSettings, callbacks: PipelineCallbacks, workspace ws: Workspace) throws -> UpscalerRun {
        let level = settings.noiseLevel ?? NoiseAugmentationConfig.defaultNoiseLevel
        guard augmentation.levels.contains(level) else { throw PipelineError.noiseLevel(level, maximum: augmentation.config.maxNoiseLevel) }
        let latentChannels = model.firstStage.latentChannels
        guard latentChannels + padded.shape[1] == model.unet.config.inChannels else {
            throw PipelineError.channelMismatch(unetInput: model.unet.config.inChannels, latent: latentChannels,
                                                conditioning: padded.shape[1], task: .superResolution)
        }
        let context = try text.context(prompt, workspace: ws)
        ws.releaseAll()
        var loop = DiffusionLoop(model: model, sampler: setup.sampler(settings))
        var generator = TorchGenerator(seed: settings.seed)
        let noise = try Tensor(shape: padded.shape, values: generator.normal(padded.count))
        let augmented = try augmentation.noised(padded, level: level, noise: noise)
        let shape = [1, latentChannels, padded.shape[2], padded.shape[3]]
        let latent = try loop.initialLatent(shape, generator: &generator)
        let initial = try latent.copy()
        // The noised image concatenated after every row's latent, the noise level as every row's class label, on the U-Net
        // tiles of `settings.tiling` (each tile runs the whole guidance batch with its contexts).
        let denoiser = TextConditionedDenoiser(unet: model.unet, conditioning: augmented, context: context, latentHeight: shape[2],
                                               latentWidth: shape[3], tiling: settings.tiling, classLabel: level)
        let decoded = try loop.run(latent, denoiser: denoiser, prompt: prompt, generator: &generator, tiling: settings.tiling,
                                   callbacks: callbacks, workspace: ws)
        return UpscalerRun(context: context, augmentedImage: augmented, initialLatents: initial, decoded: decoded)
    }
}
