import LDMModels
import LDMTensor

/// DDIM (Song et al. 2021), in the two reference conventions (docs/ldm-spec.md §5.1).
///
/// Both use the "leading" grid τ_k = k·(T // S) + 1 and
///   x̂₀ = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t,  σ = η·√((1−ᾱ_prev)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)),
///   x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε + σ·z;
/// for a v-prediction model x̂₀ = √ᾱ_t·x_t − √(1−ᾱ_t)·v and ε = √ᾱ_t·v + √(1−ᾱ_t)·x_t (diffusers
/// scheduling_ddim.py `step`; CompVis SD 2 ddim.py `predict_start_from_z_and_v`, `predict_eps_from_z_and_v`,
/// whose float64-made √ᾱ buffers may differ from the √ of float32 ᾱ here in the last bit: no CompVis-convention
/// model of ldm-edit's is v-prediction).
/// They differ in ᾱ_prev at the last step and in the rounding of the per-step scalars, each
/// reproduced here operation by operation in Float32. One model evaluation per step.
public struct DDIMSampler: TimestepGridSampler {
    public enum Convention: Sendable, Equatable {
        /// CompVis `DDIMSampler` (inpaint.py, the SR notebook): ᾱ_prev = ᾱ₀ at the last step; the
        /// per-step scalars are float32 buffers made in numpy (`make_ddim_sampling_parameters`).
        case compVis
        /// diffusers `DDIMScheduler` ("leading" spacing shifted by `steps_offset`; ᾱ_prev = 1 at the
        /// last step when `set_alpha_to_one`, else ᾱ₀).
        case diffusers(setAlphaToOne: Bool, stepsOffset: Int = 1)
    }

    public let schedule: NoiseSchedule
    public let convention: Convention
    public let eta: Float
    public let prediction: PredictionType
    /// The timesteps the U-Net is called with, in sampling order (descending).
    public let timesteps: [Int]

    public init(schedule: NoiseSchedule, steps: Int, eta: Float, convention: Convention, prediction: PredictionType = .epsilon) {
        self.schedule = schedule
        self.prediction = prediction
        self.convention = convention
        self.eta = eta
        let stride = schedule.count / max(1, steps)
        switch convention {
        case .compVis:
            // make_ddim_timesteps("uniform"): range(0, T, T // S) + 1 — for S not dividing T this
            // gives more than S steps, as the reference does. When the grid reaches T − 1 (S = 3,
            // 1000, ...) the reference's last step would be T, past its schedule (an IndexError in
            // make_ddim_sampling_parameters); that step is dropped here.
            timesteps = Array(Swift.stride(from: 0, to: schedule.count, by: stride).map { $0 + 1 }
                .filter { $0 < schedule.count }.reversed())
        case .diffusers(_, let offset):
            // With steps_offset a full grid (S = T) would end at T, past the schedule (diffusers
            // fails there too); that step is dropped.
            timesteps = (0..<steps).map { $0 * stride + offset }.filter { $0 < schedule.count }.reversed()
        }
    }

    /// Scalars of one step, rounded as the reference rounds them.
    struct StepScalars {
        let sqrtOneMinusAlpha: Float, sqrtAlpha: Float, sqrtAlphaPrev: Float, direction: Float, sigma: Float
    }

    func scalars(step index: Int) -> StepScalars {
        let a = schedule.alphasCumprod
        let t = timesteps[index]
        switch convention {
        case .compVis:
            let k = timesteps.count - 1 - index  // position in the ascending grid
            let alpha = a[t]
            let alphaPrev = k == 0 ? a[0] : a[timesteps[index + 1]]
            // numpy float64 from the float32 values, stored back as float32.
            let (ad, apd) = (Double(alpha), Double(alphaPrev))
            let sigma = Float(Double(eta) * ((1 - apd) / (1 - ad) * (1 - ad / apd)).squareRoot())
            let sqrtOneMinus = Float(1 - alpha).squareRoot()
            return StepScalars(sqrtOneMinusAlpha: sqrtOneMinus, sqrtAlpha: alpha.squareRoot(), sqrtAlphaPrev: alphaPrev.squareRoot(),
                               direction: (1 - alphaPrev - sigma * sigma).squareRoot(), sigma: sigma)
        case .diffusers(let setAlphaToOne, _):
            let alpha = a[t]
            let previous = t - schedule.count / timesteps.count
            let alphaPrev = previous >= 0 ? a[previous] : (setAlphaToOne ? 1 : a[0])
            let beta = 1 - alpha, betaPrev = 1 - alphaPrev
            let variance = (betaPrev / beta) * (1 - alpha / alphaPrev)
            let sigma = eta * variance.squareRoot()
            return StepScalars(sqrtOneMinusAlpha: beta.squareRoot(), sqrtAlpha: alpha.squareRoot(), sqrtAlphaPrev: alphaPrev.squareRoot(),
                               direction: (1 - alphaPrev - sigma * sigma).squareRoot(), sigma: sigma)
        }
    }

    /// One step in place, x_t → x_prev: ε (or v) from `denoiser` at `timesteps[index]`, then the update
    /// (CompVis ldm/models/diffusion/ddim.py `p_sample_ddim`; diffusers scheduling_ddim.py `step`). For η > 0
    /// the step's noise is drawn after the evaluation, continuing the one generator stream as
    /// diffusers' SR pipeline does.
    /// - x: [N, C, H, W]
    public func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                     workspace: Workspace) throws {
        let t = try timestep(index, sampler: "DDIMSampler.step")
        let output = try denoiser.checkedNoise(x, timestep: Float(t), workspace: workspace, sampler: "DDIMSampler.step")
        let noise = eta > 0 ? generator.normal(x.count) : nil
        update(index, x: x, output: output, noise: noise)
    }

    /// The update given the model's output (ε or v), in place: x ← x_prev. `noise` (same size as x) is used only
    /// when η > 0.
    /// - x, output: [N, C, H, W]
    func update(_ index: Int, x: Tensor, output: Tensor, noise: [Float]?) {
        let s = scalars(step: index)
        let (p, m) = (x.data, output.data)
        let velocity = prediction == .vPrediction
        for i in 0..<x.count {
            let x0: Float, eps: Float
            if velocity {
                x0 = s.sqrtAlpha * p[i] - s.sqrtOneMinusAlpha * m[i]
                eps = s.sqrtAlpha * m[i] + s.sqrtOneMinusAlpha * p[i]
            } else {
                eps = m[i]
                x0 = (p[i] - s.sqrtOneMinusAlpha * eps) / s.sqrtAlpha
            }
            let direction = s.direction * eps
            var next = s.sqrtAlphaPrev * x0 + direction
            if eta > 0, let noise { next = next + s.sigma * noise[i] }
            p[i] = next
        }
    }
}
