import Foundation
import LDMModels
import LDMTensor

/// DPM-Solver++(2M) as diffusers' `DPMSolverMultistepScheduler` (schedulers/
/// scheduling_dpmsolver_multistep.py) with its defaults (solver_order 2, "dpmsolver++", "midpoint",
/// lower_order_final, final_sigmas_type "zero", "linspace" spacing; docs/ldm-spec.md §5.2), optionally
/// on Karras σ (`use_karras_sigmas`), arithmetic
/// reproduced in Float32 as diffusers does it. One model evaluation per step; the previous step's
/// data prediction is kept for the second-order update. A v-prediction model's output gives the data
/// prediction as α_s·x − σ_s·v (`convert_model_output`, `prediction_type == "v_prediction"`).
public struct DPMSolverSampler: TimestepGridSampler {
    public let timesteps: [Int]
    /// σ per step plus the final 0.
    let sigmas: [Float]
    /// The previous step's data prediction (`model_outputs[-2]`), from the workspace's pool.
    var previousData: Tensor?
    var previousLambda: Float = 0
    public let prediction: PredictionType

    /// - karras: σ on the Karras et al. ρ = 7 ramp between the schedule's σ_min and σ_max, each
    ///   step's timestep the rounded `_sigma_to_t` of its σ (`use_karras_sigmas=True`); else the
    ///   linspace grid and the schedule's own σ there.
    /// - spacing: `.linspace` (diffusers' default) or `.leading` (`arange(S + 1)·(T // (S + 1))`, reversed, the
    ///   last dropped, + `stepsOffset`: scheduling_dpmsolver_multistep.py `set_timesteps`); `.trailing` is taken as
    ///   linspace. Ignored with `karras`.
    public init(schedule: NoiseSchedule, steps: Int, karras: Bool = false, spacing: TimestepSpacing = .linspace, stepsOffset: Int = 1,
                prediction: PredictionType = .epsilon) {
        self.prediction = prediction
        let a = schedule.alphasCumprod
        let n = a.count
        // σ_t = √((1 − ᾱ)/ᾱ) in float32 (torch ops on the float32 ᾱ).
        let all = SigmaGrid.trainingSigmas(a)
        if karras, let first = all.first, let last = all.last {
            // The ramp and the interpolation are float64; the timesteps rounded to integers.
            let karras = SigmaGrid.karrasGrid(table: all, sigmaMin: Double(first), sigmaMax: Double(last), steps: steps)
            timesteps = karras.timesteps.map { Int($0.rounded(.toNearestOrEven)) }
            sigmas = karras.sigmas.map { Float($0) } + [0]
            return
        }
        if spacing == .leading {
            let ratio = n / (steps + 1)
            let ts = (0...steps).reversed().dropLast().map { min(n - 1, $0 * ratio + stepsOffset) }
            timesteps = ts
            sigmas = ts.map { all[$0] } + [0]
            return
        }
        // timesteps = round(linspace(0, T − 1, S + 1))[::-1][:-1]
        // numpy's linspace: i·((stop − start)/num) + start, then round half to even.
        let spacing = Double(n - 1) / Double(steps)
        let grid = (0...steps).map { $0 == steps ? Double(n - 1) : (Double($0) * spacing).rounded(.toNearestOrEven) }
        let ts = grid.reversed().dropLast().map { Int($0) }
        timesteps = ts
        // np.interp at integer timesteps is the value itself (computed in float64), then float32.
        sigmas = ts.map { Float(Double(all[$0])) } + [0]
    }

    static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    /// One step in place, x_s → x_t: ε (or v) from `denoiser` at `timesteps[index]`, the data prediction
    /// m = (x − σ_s·ε) / α_s, or α_s·x − σ_s·v (`convert_model_output`), then the first-order update (first and last
    /// steps, `dpm_solver_first_order_update`) or the second-order midpoint one
    /// (`multistep_dpm_solver_second_order_update`) with the previous step's m.
    /// - x: [N, C, H, W]
    public mutating func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                              workspace: Workspace) throws {
        let t = try timestep(index, sampler: "DPMSolverSampler.step")
        // A new run starts from first order, whatever an earlier run of this sampler left.
        if index == 0 { previousData = nil }
        if let previous = previousData, previous.shape != x.shape {
            throw TensorError.shapeMismatch(operation: "DPMSolverSampler.step", argument: "x",
                                            expected: "the previous step's \(previous.shape)", actual: x.shape)
        }
        let eps = try denoiser.checkedNoise(x, timestep: Float(t), workspace: workspace,
                                            sampler: "DPMSolverSampler.step")
        let (alphaS, sigmaS) = Self.alphaSigma(sigmas[index])
        let (alphaT, sigmaT) = Self.alphaSigma(sigmas[index + 1])
        let lambdaS = log(alphaS) - log(sigmaS)
        let lambdaT = log(alphaT) - log(sigmaT)
        let h = lambdaT - lambdaS
        let (p, e) = (x.data, eps.data)
        let current = try workspace.tensor(x.shape)
        let data = current.data
        if prediction == .vPrediction {
            for i in 0..<x.count { data[i] = alphaS * p[i] - sigmaS * e[i] }
        } else {
            for i in 0..<x.count { data[i] = (p[i] - sigmaS * e[i]) / alphaS }
        }
        let ratio = sigmaT / sigmaS
        let factor = alphaT * (exp(-h) - 1)
        let lastStep = index == timesteps.count - 1
        if let previous = previousData?.data, !lastStep {
            let r = (lambdaS - previousLambda) / h
            for i in 0..<x.count {
                let d1 = (1 / r) * (data[i] - previous[i])
                p[i] = ratio * p[i] - factor * data[i] - 0.5 * factor * d1
            }
        } else {
            for i in 0..<x.count { p[i] = ratio * p[i] - factor * data[i] }
        }
        previousData = current
        previousLambda = lambdaS
    }
}
