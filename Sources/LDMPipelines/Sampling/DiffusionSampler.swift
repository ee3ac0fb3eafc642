import LDMTensor

/// A sampler of the reverse diffusion: how many steps it takes, the scale of its initial noise, and
/// how one step moves x, calling the `Denoiser` as often as its method needs. Samplers that need
/// noise draw it from the pipeline's one generator stream (`TorchGenerator`), in the order their
/// reference does.
///
/// A new sampler implements `stepCount` (or `timesteps`, for a `TimestepGridSampler`),
/// `step(_:x:denoiser:generator:workspace:)` and, when a step evaluates the model more than once,
/// `evaluations(step:)`; samplers working on x/σ-scaled latents (the Euler family) also give
/// `initialNoiseSigma` and scale the denoiser's input themselves. `sample` (the whole run, with
/// progress and cancellation) comes with the protocol.
public protocol DiffusionSampler: Sendable {
    /// Steps of the run, one `step` call each.
    var stepCount: Int { get }
    /// What the initial N(0, 1) latent is multiplied by (diffusers `init_noise_sigma`). Default 1.
    var initialNoiseSigma: Float { get }
    /// Model evaluations step `index` makes (progress is counted in them). Default 1.
    func evaluations(step index: Int) -> Int
    /// One step in place, x ← the next sample, evaluating `denoiser` as the method needs;
    /// `workspace` is passed to it and lends the step's scratch.
    /// - x: [N, z, h, w]
    mutating func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                       workspace: Workspace) throws
}

/// A sampler stepping along integer training timesteps (DDIM, DPM-Solver++, DDPM, PNDM).
public protocol TimestepGridSampler: DiffusionSampler {
    /// The grid in sampling order (descending): one entry per step, the U-Net timestep the step
    /// starts from.
    var timesteps: [Int] { get }
}

extension TimestepGridSampler {
    public var stepCount: Int { timesteps.count }

    /// `timesteps[index]`, or a typed error for an index outside the grid (the samplers' `step`
    /// entry check: it is public, and the arithmetic indexes arrays with it).
    func timestep(_ index: Int, sampler: String) throws(TensorError) -> Int {
        guard timesteps.indices.contains(index) else {
            throw .invalidArgument(operation: sampler, reason: "step \(index) is outside the \(timesteps.count) steps")
        }
        return timesteps[index]
    }
}

extension DiffusionSampler {
    public func evaluations(step index: Int) -> Int { 1 }
    public var initialNoiseSigma: Float { 1 }

    /// A typed error for a step index outside the run.
    func checkStep(_ index: Int, sampler: String) throws(TensorError) {
        guard (0..<stepCount).contains(index) else {
            throw .invalidArgument(operation: sampler, reason: "step \(index) is outside the \(stepCount) steps")
        }
    }

    /// Model evaluations of the whole run.
    public var evaluationCount: Int { (0..<stepCount).reduce(0) { $0 + evaluations(step: $1) } }

    /// The whole run in place: x holds the initial noise at `timesteps[0]` and ends as the sample.
    /// `callbacks.isCancelled` is asked before every step and once after the last (throwing
    /// `PipelineError.cancelled`); `callbacks.progress(done, total)` follows every step, in model
    /// evaluations counted as they are made (for one evaluation per step: the step and the steps).
    /// `afterStep(index)` runs after each step, before its progress report (the blended inpainting's
    /// replacement of the known region).
    /// - x: [N, z, h, w]
    public mutating func sample(_ x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator, workspace: Workspace,
                                callbacks: PipelineCallbacks = .init(), afterStep: ((Int) throws -> Void)? = nil) throws {
        let total = evaluationCount
        let counting = CountingDenoiser(denoiser)
        for index in 0..<stepCount {
            if callbacks.isCancelled() { throw PipelineError.cancelled }
            try step(index, x: x, denoiser: counting, generator: &generator, workspace: workspace)
            try afterStep?(index)
            callbacks.progress(counting.count, total)
        }
        if callbacks.isCancelled() { throw PipelineError.cancelled }
    }
}

/// The sampler choices of the command line.
public enum SamplerKind: String, Sendable, CaseIterable {
    case ddim
    case dpmpp2m = "dpmpp-2m"
    /// DPM-Solver++(2M) on the Karras et al. σ ramp (`use_karras_sigmas`; "DPM++ 2M Karras" in the web UIs).
    case dpmpp2mKarras = "dpmpp-2m-karras"
    case euler
    /// Euler on the Karras et al. σ ramp (`EulerDiscreteScheduler` with `use_karras_sigmas`). For an ε- or
    /// v-model this is DDIM's update on another grid: DDIM (η = 0) is Euler's method in σ (Karras et al. 2022, §3).
    case eulerKarras = "euler-karras"
    /// Euler ancestral ("Euler a"): fresh noise at every step.
    case eulerAncestral = "euler-a"
    /// PNDM's pseudo linear multistep (PLMS) steps, as Stable Diffusion 1.x's scheduler_config.json names.
    case pndm
    case ddpm
}

extension SamplerKind {
    /// The kind running as the diffusers scheduler class `name` does (`scheduler_config.json`'s `_class_name`);
    /// nil for a scheduler not implemented here.
    public init?(diffusersScheduler name: String, karras: Bool = false) {
        switch name {
        case "DDIMScheduler": self = .ddim
        case "PNDMScheduler": self = .pndm
        case "EulerDiscreteScheduler": self = karras ? .eulerKarras : .euler
        case "EulerAncestralDiscreteScheduler": self = .eulerAncestral
        case "DPMSolverMultistepScheduler": self = karras ? .dpmpp2mKarras : .dpmpp2m
        case "DDPMScheduler": self = .ddpm
        default: return nil
        }
    }
}
