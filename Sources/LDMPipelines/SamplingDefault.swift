import LDMModels

/// The sampler and step count a model is run with when a request chooses neither.
///
/// - Stable Diffusion: the folder's scheduler (`scheduler_config.json`'s `_class_name`, Karras σ when it says so;
///   PNDM for SD 1.x single files and for a scheduler not implemented here) at 50 steps, the diffusers pipelines'
///   `num_inference_steps`.
/// - LDM super-resolution: DDIM at 50 steps (the latent-diffusion scripts' sampler; the step count issue 18's rule
///   chose on the trained SR model, docs/quality.md "Sampler and step count").
/// - LDM inpainting (the mask and masked image concatenated to the latent): DPM-Solver++(2M) on the Karras σ ramp at
///   `ldmInpaintingSteps`. Every deterministic sampler solves the same probability-flow ODE from the same noise;
///   measured on the trained inpainting U-Net (Scripts/eval/sampler_convergence.py, docs/quality.md "Which fill is
///   right"), DDIM at the `scripts/inpaint.py` recipe's 50 steps lands 42.9 dB (hole PSNR) from that ODE's
///   many-step solution and 6 % under its detail; DPM-Solver++(2M) Karras at 15 steps lands 46.8 dB from it (nearer
///   on each of the 16 crop-and-mask cases), within 0.10 dB and 3.4 % of its figures, in 30 % of the U-Net calls.
public struct SamplingDefault: Sendable, Equatable {
    public let sampler: SamplerKind
    public let steps: Int

    public init(sampler: SamplerKind, steps: Int) {
        self.sampler = sampler
        self.steps = steps
    }

    /// The step count of every model but the LDM inpainting ones (the LDM scripts' `--ddim_steps` default and the
    /// diffusers pipelines' `num_inference_steps`).
    public static let commonSteps = 50
    /// DPM-Solver++(2M) Karras steps of the LDM inpainting models (see the type's comment).
    public static let ldmInpaintingSteps = 15

    /// The steps for a request that names `sampler` but no step count: this default's own with its own sampler,
    /// `commonSteps` with any other (a request for DDIM gets the recipes' DDIM 50, not DPM-Solver's 15).
    public func steps(for sampler: SamplerKind) -> Int { sampler == self.sampler ? steps : Self.commonSteps }

    /// The default of the model these weights build, read without building it (a model list needs no model).
    public init(for weights: ModelWeights) {
        if weights.textEncoder != nil {
            let scheduler = weights.schedule.schedulerClass.flatMap { SamplerKind(diffusersScheduler: $0, karras: weights.schedule.karrasSigmas ?? false) }
            self.init(sampler: scheduler ?? .pndm, steps: Self.commonSteps)
        } else if weights.task == .inpainting {
            self.init(sampler: .dpmpp2mKarras, steps: Self.ldmInpaintingSteps)
        } else {
            self.init(sampler: .ddim, steps: Self.commonSteps)
        }
    }
}
