import LDMImageIO
import LDMModels
import LDMParallel
import LDMTensor

/// Settings shared by the editing pipelines.
public struct SamplingSettings: Sendable, Equatable {
    public var sampler: SamplerKind
    public var steps: Int
    /// DDIM's η (0: deterministic given the seed); ignored by the other samplers.
    public var eta: Float
    /// Seed of the PyTorch-compatible generator; `torch.manual_seed(seed)` reproduces the same noise.
    public var seed: UInt64
    /// How large latents are split (the result depends on it; see `TilingSettings`).
    public var tiling: TilingSettings
    /// The prompt of a text-conditioned model (Stable Diffusion); nil for the LDM families, which read no text.
    public var text: TextPrompt?
    /// The low-res noise level of a noise-augmented upscaler (stable-diffusion-x4-upscaler; nil: its default 20);
    /// nil for every other model.
    public var noiseLevel: Int?

    public init(sampler: SamplerKind = .ddim, steps: Int, eta: Float = 0, seed: UInt64, tiling: TilingSettings = .standard,
                text: TextPrompt? = nil) {
        self.sampler = sampler
        self.steps = steps
        self.eta = eta
        self.seed = seed
        self.tiling = tiling
        self.text = text
    }

    /// The sampler for these settings over a model's schedule, in the model's DDIM convention, for the model's
    /// prediction type (`config.prediction`).
    func makeSampler(schedule: NoiseSchedule, config: NoiseScheduleConfig, convention: DDIMSampler.Convention) -> any DiffusionSampler {
        // The σ samplers' spacing: the config's `timestep_spacing` when it names one, else their diffusers
        // default (linspace), as `from_config` of SD 1.5's scheduler_config.json (which names none) gives.
        let spacing: TimestepSpacing = config.timestepSpacing == "leading" ? .leading : .linspace
        let offset = config.stepsOffset ?? 1
        let p = config.prediction
        return switch sampler {
        case .ddim: DDIMSampler(schedule: schedule, steps: steps, eta: eta, convention: convention, prediction: p)
        case .dpmpp2m: DPMSolverSampler(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: offset, prediction: p)
        case .dpmpp2mKarras: DPMSolverSampler(schedule: schedule, steps: steps, karras: true, prediction: p)
        case .euler: EulerSampler(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: offset, prediction: p)
        case .eulerKarras: EulerSampler(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: offset, karras: true, prediction: p)
        case .eulerAncestral: EulerAncestralSampler(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: offset, prediction: p)
        case .pndm: PNDMSampler(schedule: schedule, steps: steps, stepsOffset: config.stepsOffset ?? 1,
                                setAlphaToOne: config.setAlphaToOne ?? false, prediction: p)
        case .ddpm: DDPMSampler(config)
        }
    }
}

/// Reports progress and asks whether to stop; both are called between sampling steps
/// (`DiffusionSampler.sample`). Progress counts model evaluations, done and planned: for the
/// samplers here (one evaluation per step) the step and the number of steps; a sampler whose steps
/// evaluate twice advances it by two per step, so rates and ETAs stay per model call.
public struct PipelineCallbacks: Sendable {
    public var progress: @Sendable (_ step: Int, _ total: Int) -> Void
    public var isCancelled: @Sendable () -> Bool

    public init(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.progress = progress
        self.isCancelled = isCancelled
    }
}

/// How a model's schedule is sampled: the ᾱ precision and DDIM convention of its own reference.
/// diffusers folders follow diffusers (settings from scheduler_config.json, `defaultSetAlphaToOne`
/// when absent); CompVis checkpoints and ldm-edit files follow CompVis.
struct SamplingSetup: Sendable {
    let schedule: NoiseSchedule
    let config: NoiseScheduleConfig
    let convention: DDIMSampler.Convention

    init(_ weights: ModelWeights, defaultSetAlphaToOne: Bool) {
        // Stable Diffusion follows diffusers in every format (its single files as `from_single_file` runs them).
        let diffusers = weights.layout == .diffusers || weights.unet.crossAttention != nil
        var config = weights.schedule
        // Stable Diffusion's reference swaps schedulers with `from_config(scheduler.config)`, which carries the
        // folder's timestep_spacing to Euler and DPM-Solver; the LDM references build those with their defaults.
        if weights.unet.crossAttention == nil { config.timestepSpacing = nil }
        self.config = config
        schedule = NoiseSchedule(weights.schedule, precision: diffusers ? .diffusers : .compVis)
        convention = diffusers
            ? .diffusers(setAlphaToOne: weights.schedule.setAlphaToOne ?? defaultSetAlphaToOne, stepsOffset: weights.schedule.stepsOffset ?? 1)
            : .compVis
    }

    func sampler(_ settings: SamplingSettings) -> any DiffusionSampler {
        settings.makeSampler(schedule: schedule, config: config, convention: convention)
    }
}

/// The sampling loop both editing modes share: noise from the seed, the sampler's steps over a
/// denoiser, decode by the first stage (VQ: with quantisation). What the model is asked at each
/// evaluation (conditioning, tiles, later guidance or another prediction type) is the denoiser's
/// business; how often, the sampler's.
struct DiffusionLoop {
    let model: LatentDiffusionModel
    var sampler: any DiffusionSampler

    /// - latentShape: [1, z, h, w] → decoded image [1, 3, h·f, w·f] (not clamped)
    mutating func run(_ denoiser: some Denoiser, latentShape: [Int], settings: SamplingSettings, callbacks: PipelineCallbacks,
                      workspace ws: Workspace) throws -> Tensor {
        var generator = TorchGenerator(seed: settings.seed)
        let latent = try initialLatent(latentShape, generator: &generator)
        // One generator stream: the initial latents, then each step's noise when the sampler needs
        // it (diffusers' SR pipeline draws both from the global generator).
        try sampler.sample(latent, denoiser: denoiser, generator: &generator, workspace: ws, callbacks: callbacks)
        return try decode(latent, tiling: settings.tiling, workspace: ws)
    }

    /// Low-frequency guidance (ILVR, Choi et al., ICCV 2021, in latent space): sampling from noise as `run` does, but
    /// after each of the first ⌊S·share⌋ steps the guided region's low frequencies are those of `clean` noised to
    /// the next step's level with the run's own initial noise (x ← x + region·G_σ(y − x), G_σ a Gaussian blur of
    /// σ = `blur` latent pixels), so the sample keeps the reference's composition and makes its own detail.
    /// - clean: [1, z, h, w] scaled latent; region: h·w values in [0, 1] → decoded image [1, 3, h·f, w·f] (not clamped)
    mutating func guided(_ clean: Tensor, region: [Float], blur: Float, share: Double, denoiser: some Denoiser,
                         settings: SamplingSettings, callbacks: PipelineCallbacks, workspace ws: Workspace) throws -> Tensor {
        guard let forward = sampler as? any ForwardNoisingSampler else {
            throw PipelineError.samplerUnsupported(sampler: settings.sampler.rawValue, reason: "guidance needs the sampler's forward noising")
        }
        var generator = TorchGenerator(seed: settings.seed)
        let noise = try Tensor(shape: clean.shape, values: generator.normal(clean.count))
        let latent = try scaledToInitialSigma(noise.copy())
        let steps = sampler.stepCount
        let stop = min(Int(Double(steps) * min(max(share, 0), 1)), steps)
        let reference = try Tensor(shape: clean.shape)
        let (c, h, w) = (clean.shape[1], clean.shape[2], clean.shape[3])
        let kernel = LowPass.gaussian(sigma: blur)
        try sampler.sample(latent, denoiser: denoiser, generator: &generator, workspace: ws, callbacks: callbacks) { index in
            guard index + 1 < stop else { return }
            forward.noised(clean, noise: noise, beforeStep: index + 1, into: reference)
            for i in 0..<reference.count { reference.data[i] -= latent.data[i] }
            LowPass.blur(reference.data, channels: c, height: h, width: w, kernel: kernel)
            for ch in 0..<c {
                for p in 0..<(h * w) { latent.data[ch * h * w + p] += region[p] * reference.data[ch * h * w + p] }
            }
        }
        return try decode(latent, tiling: settings.tiling, workspace: ws)
    }

    /// The initial latent: N(0, 1) from `generator`, the whole latent at once (so tiling does not change the random
    /// numbers), times the sampler's initial σ (diffusers `latents * init_noise_sigma`: the σ samplers start at σ_max·z).
    /// - shape: [1, z, h, w] → [1, z, h, w]
    func initialLatent(_ shape: [Int], generator: inout TorchGenerator) throws -> Tensor {
        scaledToInitialSigma(try Tensor(shape: shape, values: generator.normal(shape.reduce(1, *))))
    }

    /// `noise` times the sampler's initial σ, in place.
    /// - noise: [1, z, h, w] → the same tensor
    func scaledToInitialSigma(_ noise: Tensor) -> Tensor {
        let sigma = sampler.initialNoiseSigma
        if sigma != 1 { for i in 0..<noise.count { noise.data[i] *= sigma } }
        return noise
    }

    /// Decodes a sampled latent on the first stage's tiles of `tiling`. The U-Net's buffers are not needed any more:
    /// the decoder's phase starts from an empty pool (the memory planner counts the phases separately).
    /// - latent: [1, z, h, w] → [1, 3, h·f, w·f] (not clamped)
    func decode(_ latent: Tensor, tiling: TilingSettings, workspace ws: Workspace) throws -> Tensor {
        ws.releaseAll()
        let grid = model.firstStage.decoderGrid(height: latent.shape[2], width: latent.shape[3], tiling: tiling)
        return try model.firstStage.decode(latent, grid: grid, normalisation: tiling.normalisation, workspace: ws)
    }
}

/// Image ⇄ tensor conversion in the references' conventions.
enum ImageTensor {
    /// PlanarImage RGB ([0, 1], values v/255 in float32) → [1, 3, H, W] in [−1, 1] as 2v − 1.
    static func tensor(_ image: PlanarImage) throws -> Tensor {
        try Tensor(shape: [1, 3, image.height, image.width], values: image.rgb.map { 2 * $0 - 1 })
    }

    /// Reflect-pads a [1, C, H, W] tensor at the bottom and right to multiples of `multiple`.
    static func reflectPad(_ x: Tensor, multiple: Int) throws -> Tensor {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let (ph, pw) = ((h + multiple - 1) / multiple * multiple, (w + multiple - 1) / multiple * multiple)
        if ph == h, pw == w { return x }
        guard h > 1 || ph == h, w > 1 || pw == w, ph - h < h, pw - w < w else {
            throw PipelineError.imageTooSmall(width: w, height: h, multiple: multiple)
        }
        let out = try Tensor(shape: [1, c, ph, pw])
        for ch in 0..<c {
            for y in 0..<ph {
                let sy = y < h ? y : 2 * (h - 1) - y
                for xx in 0..<pw {
                    let sx = xx < w ? xx : 2 * (w - 1) - xx
                    out.data[(ch * ph + y) * pw + xx] = x.data[(ch * h + sy) * w + sx]
                }
            }
        }
        return out
    }

    /// [1, 3, H', W'] decoded in [−1, 1] → PlanarImage of the top-left width×height, as
    /// clamp(x, −1, 1) / 2 + 0.5 (diffusers' postprocess, float32).
    static func image(_ x: Tensor, width: Int, height: Int) -> PlanarImage {
        let (ph, pw) = (x.shape[2], x.shape[3])
        var rgb = [Float](repeating: 0, count: 3 * width * height)
        for c in 0..<3 {
            for y in 0..<height {
                for xx in 0..<width {
                    let v = min(max(x.data[(c * ph + y) * pw + xx], -1), 1)
                    rgb[(c * height + y) * width + xx] = v / 2 + 0.5
                }
            }
        }
        return PlanarImage(width: width, height: height, rgb: rgb)
    }
}
