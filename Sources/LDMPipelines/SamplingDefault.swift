import LDMModels

/// The sampler and step count a model is run with when a request chooses neither.
///
/// - Stable Diffusion: the folder's scheduler (`scheduler_config.json`'s `_class_name`, Karras σ when it says so;
///   PNDM for SD 1.x single files and for a scheduler not implemented here) at the diffusers pipelines'
///   `num_inference_steps`: 50 (`StableDiffusionInpaintPipeline.__call__`), 75 for the x4 upscaler
///   (`StableDiffusionUpscalePipeline.__call__`).
/// - The LDM families (no text encoder) run DPM-Solver++(2M) on the Karras σ ramp. With η = 0 every sampler here
///   solves the same probability-flow ODE from the same noise, so the step count is chosen against that ODE's
///   many-step solution (DPM-Solver++(2M) Karras 100), measured on the trained models (Scripts/eval/
///   sampler_convergence.py, docs/quality.md "Which fill is right"): the fewest steps within 0.2 dB and 5 % detail
///   of its figures that land no further from it than the reference recipe does.
///   - Inpainting (the mask and masked image concatenated to the latent): `ldmInpaintingSteps`. DDIM at the
///     `scripts/inpaint.py` recipe's 50 steps lands 42.9 dB (hole PSNR) from the solution and 6 % under its detail;
///     Karras 15 lands 46.8 dB from it (nearer on each of the 16 crop-and-mask cases), within 0.10 dB and 3.4 %.
///   - Super-resolution (the low-res image concatenated): `ldmSuperResolutionSteps`. DDIM at the diffusers
///     pipeline's 100 steps lands 51.8 dB (Y-PSNR) from the solution; Karras 8 lands 53.0 dB from it, within 0.01 dB
///     Y-PSNR, 0.13 dB LR-consistency and 0.8 % detail (6 steps: 48.0 dB, further than DDIM 100).
public struct SamplingDefault: Sendable, Equatable {
    public let sampler: SamplerKind
    public let steps: Int

    public init(sampler: SamplerKind, steps: Int) {
        self.sampler = sampler
        self.steps = steps
    }

    /// The step count of a request that names another sampler than the model's and no steps, and of the Stable
    /// Diffusion models but the x4 upscaler (the LDM scripts' `--ddim_steps` default and the diffusers pipelines'
    /// `num_inference_steps`).
    public static let commonSteps = 50
    /// The x4 upscaler's steps (`StableDiffusionUpscalePipeline.__call__`'s `num_inference_steps`).
    public static let stableDiffusionUpscalerSteps = 75
    /// DPM-Solver++(2M) Karras steps of the LDM inpainting models (see the type's comment).
    public static let ldmInpaintingSteps = 15
    /// DPM-Solver++(2M) Karras steps of the LDM super-resolution models (see the type's comment).
    public static let ldmSuperResolutionSteps = 8

    /// The steps for a request that names `sampler` but no step count: this default's own with its own sampler,
    /// `commonSteps` with any other (a request for DDIM gets DDIM 50, not DPM-Solver's 15 or 8).
    public func steps(for sampler: SamplerKind) -> Int { sampler == self.sampler ? steps : Self.commonSteps }

    /// The default of the model these weights build, read without building it (a model list needs no model).
    public init(for weights: ModelWeights) {
        if weights.textEncoder != nil {
            let scheduler = weights.schedule.schedulerClass.flatMap { SamplerKind(diffusersScheduler: $0, karras: weights.schedule.karrasSigmas ?? false) }
            self.init(sampler: scheduler ?? .pndm,
                      steps: weights.task == .superResolution ? Self.stableDiffusionUpscalerSteps : Self.commonSteps)
        } else {
            self.init(sampler: .dpmpp2mKarras,
                      steps: weights.task == .inpainting ? Self.ldmInpaintingSteps : Self.ldmSuperResolutionSteps)
        }
    }
}
