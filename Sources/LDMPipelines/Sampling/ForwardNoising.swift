import LDMTensor

/// A sampler that can put a clean latent at the noise level one of its steps starts from: x = a·x₀ + b·ε,
/// diffusers' `scheduler.add_noise` at that step. Inpainting with a model that does not see the mask
/// (a Stable Diffusion text-to-image U-Net) needs it: after every step the known region's latents are
/// replaced by the image's latents noised to the next step's level (`InpaintingPipeline.blendedStableDiffusion`).
public protocol ForwardNoisingSampler: DiffusionSampler {
    /// (a, b) of the forward process at the level step `index` starts from (0 ≤ index < stepCount), in the
    /// sampler's own latent space and rounded as its reference's `add_noise` rounds them.
    func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float)
}

extension ForwardNoisingSampler {
    /// a·x₀ + b·ε per element, in that order of operations (`add_noise`), into `out`.
    /// - clean, noise, out: the same count
    func noised(_ clean: Tensor, noise: Tensor, beforeStep index: Int, into out: Tensor) {
        let (a, b) = forwardCoefficients(beforeStep: index)
        let (x, e, o) = (clean.data, noise.data, out.data)
        for i in 0..<out.count { o[i] = a * x[i] + b * e[i] }
    }
}

/// DDIM, PNDM and DDPM (scheduling_ddim.py, scheduling_pndm.py, scheduling_ddpm.py `add_noise`):
/// a = ᾱ_t ** 0.5, b = (1 − ᾱ_t) ** 0.5 at the step's timestep, in float32 from the float32 ᾱ.
extension TimestepGridSampler {
    func varianceCoefficients(_ alphasCumprod: [Float], beforeStep index: Int) -> (signal: Float, noise: Float) {
        let alpha = alphasCumprod[timesteps[index]]
        return (alpha.squareRoot(), (1 - alpha).squareRoot())
    }
}

extension DDIMSampler: ForwardNoisingSampler {
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) {
        varianceCoefficients(schedule.alphasCumprod, beforeStep: index)
    }
}

extension PNDMSampler: ForwardNoisingSampler {
    /// At `timesteps[index]` of the PLMS grid, whose second timestep repeats (as diffusers' `timesteps[i + 1]`).
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) {
        varianceCoefficients(alphasCumprod, beforeStep: index)
    }
}

/// DDPM (scheduling_ddpm.py `add_noise`): √ᾱ_t and √(1 − ᾱ_t), the float64 products' roots in float32 as its step uses them.
extension DDPMSampler: ForwardNoisingSampler {
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) {
        let t = timesteps[index]
        return (sqrtAlphas[t], sqrtOneMinusAlphas[t])
    }
}

/// Euler and Euler ancestral (scheduling_euler_discrete.py `add_noise`): x₀ + ε·σ at the step's σ (the
/// pipeline sets `begin_index`, so the scheduler takes σ at its `step_index`, the next step's).
extension EulerSampler: ForwardNoisingSampler {
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) { (1, grid.sigmas[index]) }
}

extension EulerAncestralSampler: ForwardNoisingSampler {
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) { (1, grid.sigmas[index]) }
}

/// DPM-Solver++ (scheduling_dpmsolver_multistep.py `add_noise`): α_t·x₀ + σ_t·ε with α_t = 1/√(σ² + 1),
/// σ_t = σ·α_t at the step's σ (`_sigma_to_alpha_sigma_t`).
extension DPMSolverSampler: ForwardNoisingSampler {
    public func forwardCoefficients(beforeStep index: Int) -> (signal: Float, noise: Float) {
        let (alpha, sigma) = Self.alphaSigma(sigmas[index])
        return (alpha, sigma)
    }
}
