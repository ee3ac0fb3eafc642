import LDMTensor

extension DiffusionLoop {
    /// The sampling of every text-conditioned pipeline (SD inpainting, blended inpainting, the x4 upscaler): `latent`
    /// sampled in place by `denoiser`, through classifier-free guidance (the unconditional and conditional rows as one
    /// batch of 2 per evaluation) when the prompt asks for it, `afterStep` after each step; then decoded.
    /// - latent: [1, z, h, w] (updated) → decoded image [1, 3, h·f, w·f] (not clamped)
    mutating func run(_ latent: Tensor, denoiser: TextConditionedDenoiser, prompt: TextPrompt, generator: inout TorchGenerator,
                      tiling: TilingSettings, callbacks: PipelineCallbacks, afterStep: ((Int) throws -> Void)? = nil,
                      workspace ws: Workspace) throws -> Tensor {
        if prompt.isGuided {
            try sampler.sample(latent, denoiser: ClassifierFreeGuidance(pair: denoiser, scale: prompt.guidance), generator: &generator,
                               workspace: ws, callbacks: callbacks, afterStep: afterStep)
        } else {
            try sampler.sample(latent, denoiser: denoiser, generator: &generator, workspace: ws, callbacks: callbacks, afterStep: afterStep)
        }
        return try decode(latent, tiling: tiling, workspace: ws)
    }
}
