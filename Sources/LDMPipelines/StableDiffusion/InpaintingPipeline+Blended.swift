import LDMModels
import LDMTensor

extension InpaintingPipeline {
    /// Inpainting with a Stable Diffusion text-to-image U-Net (4 input channels: it never sees the mask), as
    /// diffusers' StableDiffusionInpaintPipeline runs such a U-Net (0.42.1, pipeline_stable_diffusion_inpaint.py,
    /// `num_channels_unet == 4`, strength 1) and as the web UIs inpaint with ordinary checkpoints: after every
    /// step the latents outside the mask are replaced by the image's own latents noised to the next step's level
    /// (`scheduler.add_noise(image_latents, noise, timesteps[i + 1])`; after the last step the clean latents), so
    /// the model only ever fills the hole. Lower quality than an inpainting checkpoint: the known region is
    /// imposed rather than seen, and seams at the hole's border are common.
    ///
    /// Random numbers in the reference's order: the whole image's posterior sample first (`prepare_latents`
    /// encodes before drawing the noise), then the initial noise, then the masked image's posterior ε, which
    /// diffusers draws for a 9-channel U-Net's input even here and never uses (only the draw is reproduced,
    /// not the encoding), then the sampler's own noise.
    /// - image: [1, 3, H', W'] in [−1, 1], mask: [1, 1, H', W'] (padded to `sizeMultiple`)
    func blendedStableDiffusion(image padded: Tensor, mask: Tensor, text: TextConditioning, prompt: TextPrompt, settings: SamplingSettings,
                                callbacks: PipelineCallbacks, workspace ws: Workspace) throws -> StableDiffusionRun {
        let firstStage = model.firstStage
        let conditioning = try StableDiffusionInpaintingConditioning(image: padded, mask: mask, firstStage: firstStage.config)
        guard model.unet.config.inChannels == firstStage.latentChannels else {
            throw PipelineError.channelMismatch(unetInput: model.unet.config.inChannels, latent: firstStage.latentChannels,
                                                conditioning: 0, task: .inpainting)
        }
        guard let sampler = setup.sampler(settings) as? any ForwardNoisingSampler else {
            throw PipelineError.samplerUnsupported(sampler: settings.sampler.rawValue, reason: "blended inpainting needs the sampler's forward noising (add_noise)")
        }
        let context = try text.context(prompt, workspace: ws)
        ws.releaseAll()
        var generator = TorchGenerator(seed: settings.seed)
        let known = try conditioning.imageLatents(firstStage: firstStage, generator: &generator, workspace: ws)
        ws.releaseAll()
        let noise = try Tensor(shape: known.shape, values: generator.normal(known.count))
        _ = generator.normal(known.count)  // the masked image's posterior ε (see above)
        var loop = DiffusionLoop(model: model, sampler: sampler)
        let latent = loop.scaledToInitialSigma(try noise.copy())
        let initial = try latent.copy()
        let latentMask = try conditioning.latentMask()
        let noised = try Tensor(shape: known.shape)
        let plane = latentMask.count
        let steps = sampler.stepCount
        let forward = sampler
        let replaceKnown: (Int) throws -> Void = { index in
            // (1 − m)·proper + m·latents with m ∈ {0, 1}: a selection (a product by 0 adds a signed zero).
            let proper: Tensor
            if index < steps - 1 {
                forward.noised(known, noise: noise, beforeStep: index + 1, into: noised)
                proper = noised
            } else {
                proper = known
            }
            for c in 0..<(latent.count / plane) {
                for p in 0..<plane where latentMask.data[p] < 0.5 { latent.data[c * plane + p] = proper.data[c * plane + p] }
            }
        }
        let denoiser = TextConditionedDenoiser(unet: model.unet, conditioning: nil, context: context,
                                               latentHeight: latent.shape[2], latentWidth: latent.shape[3], tiling: settings.tiling)
        let decoded = try loop.run(latent, denoiser: denoiser, prompt: prompt, generator: &generator, tiling: settings.tiling,
                                   callbacks: callbacks, afterStep: replaceKnown, workspace: ws)
        return StableDiffusionRun(context: context, encodedLatents: known, initialLatents: initial, decoded: decoded)
    }
}
