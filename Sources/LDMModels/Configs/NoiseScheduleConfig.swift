import Foundation

/// The training noise schedule a model was made with (docs/ldm-spec.md §1.4): the LDM "linear" schedule,
/// β_i = (√β_start + i·(√β_end − √β_start)/(T−1))², computed in float64 as util.py does.
public struct NoiseScheduleConfig: Sendable, Codable, Equatable {
    public var timesteps: Int = 1000
    public var linearStart: Double
    public var linearEnd: Double
    /// Where the numbers came from: "checkpoint buffers", "scheduler_config.json", "ldm-edit config", "preset".
    public var source: String
    /// diffusers DDIM settings from `scheduler_config.json` (nil elsewhere): ᾱ_prev at the last
    /// step is 1 when `setAlphaToOne`, and timesteps are shifted by `stepsOffset` ("leading" spacing).
    public var setAlphaToOne: Bool?
    public var stepsOffset: Int?
    /// The diffusers scheduler a model ships with (`scheduler_config.json`'s `_class_name`, e.g.
    /// "PNDMScheduler" for Stable Diffusion 1.x; `stableDiffusion` for single files): the sampler a model
    /// runs with when none is asked for. nil: the LDM families (DDIM, as their scripts).
    public var schedulerClass: String?
    /// `use_karras_sigmas` of a DPMSolverMultistepScheduler config.
    public var karrasSigmas: Bool?
    /// `timestep_spacing` when the file names it ("leading"; diffusers ≥ 0.15 writes it). nil: each scheduler's
    /// own default, as diffusers' `from_config` (DDIM, PNDM: leading; Euler, DPM-Solver: linspace).
    public var timestepSpacing: String?
    /// What the U-Net predicts: scheduler_config.json's `prediction_type`; for single files the family's
    /// (`PredictionType.stableDiffusionSingleFile`). nil (files written before it existed, the LDM families): ε.
    public var predictionType: PredictionType?

    /// `predictionType`, ε when unset.
    public var prediction: PredictionType { predictionType ?? .epsilon }

    public init(timesteps: Int = 1000, linearStart: Double, linearEnd: Double, source: String) {
        self.timesteps = timesteps
        self.linearStart = linearStart
        self.linearEnd = linearEnd
        self.source = source
    }

    /// bsr_sr/config.yaml `linear_end: 0.0155`; inpainting_big/config.yaml `linear_end: 0.0205`.
    public static func preset(for task: ModelTask) -> NoiseScheduleConfig {
        NoiseScheduleConfig(linearStart: 0.0015, linearEnd: task == .superResolution ? 0.0155 : 0.0205, source: "preset")
    }

    /// Stable Diffusion 1.x (`v1-inpainting-inference.yaml`: linear_start 0.00085, linear_end 0.012; SD 1.5's
    /// scheduler_config.json: scaled_linear, PNDMScheduler, set_alpha_to_one false, steps_offset 1): what
    /// diffusers' single-file loader gives a CompVis checkpoint, whose buffers hold the same β.
    /// `prediction`: the family's (`PredictionType.stableDiffusionSingleFile`).
    public static func stableDiffusion(linearStart: Double = 0.00085, linearEnd: Double = 0.012, timesteps: Int = 1000,
                                       source: String = "preset", prediction: PredictionType = .epsilon) -> NoiseScheduleConfig {
        var config = NoiseScheduleConfig(timesteps: timesteps, linearStart: linearStart, linearEnd: linearEnd, source: source)
        config.predictionType = prediction
        config.setAlphaToOne = false
        config.stepsOffset = 1
        config.schedulerClass = "PNDMScheduler"
        return config
    }

    public var betas: [Double] {
        let a = linearStart.squareRoot(), b = linearEnd.squareRoot()
        return (0..<timesteps).map { i in
            let s = timesteps == 1 ? a : a + Double(i) * (b - a) / Double(timesteps - 1)
            return s * s
        }
    }

    /// Recovers the schedule from CompVis' float32 `betas` buffer (and checks `alphas_cumprod`
    /// when present): the end points are read off, rounded to 6 significant digits (the YAML
    /// values), and all buffers must agree with the recomputed schedule to float32 rounding.
    static func fromBuffers(betas: [Float], alphasCumprod: [Float]?, path: String) throws(CheckpointError) -> NoiseScheduleConfig {
        guard betas.count >= 2, let first = betas.first, let last = betas.last else {
            throw .unsupportedModel(path: path, reason: "the betas buffer has \(betas.count) values")
        }
        func round6(_ x: Float) -> Double { Double(String(format: "%.6g", Double(x))) ?? Double(x) }
        let config = NoiseScheduleConfig(timesteps: betas.count, linearStart: round6(first), linearEnd: round6(last),
                                         source: "checkpoint buffers")
        let expected = config.betas
        for (i, (have, want)) in zip(betas, expected).enumerated() where abs(Double(have) - want) > 2e-7 * want + 1e-12 {
            throw .unsupportedModel(path: path, reason: "betas[\(i)] = \(have) is not the LDM linear schedule from \(config.linearStart) to \(config.linearEnd) (expected \(Float(want)))")
        }
        if let alphasCumprod, alphasCumprod.count == betas.count {
            var product = 1.0
            for (i, beta) in expected.enumerated() {
                product *= 1 - beta
                if abs(Double(alphasCumprod[i]) - product) > 1e-6 * product + 1e-12 {
                    throw .unsupportedModel(path: path, reason: "alphas_cumprod[\(i)] = \(alphasCumprod[i]) disagrees with its betas (expected \(Float(product)))")
                }
            }
        }
        return config
    }

    /// diffusers `scheduler_config.json`: `scaled_linear` is the LDM linear schedule; diffusers'
    /// own `linear` (linear in β) is a different curve and is refused.
    static func fromDiffusers(_ json: [String: Any], path: String) throws(CheckpointError) -> NoiseScheduleConfig {
        let kind = (json["beta_schedule"] as? String) ?? "linear"
        guard kind == "scaled_linear" else {
            throw .unsupportedModel(path: path, reason: "beta_schedule \(kind); LDM models use scaled_linear")
        }
        guard let start = json["beta_start"] as? Double, let end = json["beta_end"] as? Double else {
            throw .unsupportedModel(path: path, reason: "scheduler_config.json lacks beta_start / beta_end")
        }
        let spacing = (json["timestep_spacing"] as? String) ?? "leading"
        guard spacing == "leading" else {
            throw .unsupportedModel(path: path, reason: "timestep_spacing \(spacing); ldm-edit implements diffusers' \"leading\" spacing (the LDM default)")
        }
        var config = NoiseScheduleConfig(timesteps: (json["num_train_timesteps"] as? Int) ?? 1000, linearStart: start,
                                         linearEnd: end, source: "scheduler_config.json")
        config.setAlphaToOne = (json["set_alpha_to_one"] as? Bool) ?? true
        config.stepsOffset = (json["steps_offset"] as? Int) ?? 0
        config.schedulerClass = json["_class_name"] as? String
        config.karrasSigmas = json["use_karras_sigmas"] as? Bool
        config.timestepSpacing = json["timestep_spacing"] as? String
        if let value = json["prediction_type"], !(value is NSNull) {
            guard let name = value as? String, let prediction = PredictionType(rawValue: name) else {
                throw .invalidConfig(path: path, field: "prediction_type", value: DiffusersConfig.text(value),
                                     expected: "\"epsilon\" or \"v_prediction\" (what ldm-edit's samplers implement)")
            }
            config.predictionType = prediction
        }
        return config
    }
}
