import LDMModels
import LDMTensor

/// PNDM with `skip_prk_steps` (pseudo linear multistep only), the scheduler Stable Diffusion 1.x
/// checkpoints name in scheduler_config.json, as diffusers' `PNDMScheduler` (schedulers/
/// scheduling_pndm.py `set_timesteps`, `step_plms`, `_get_prev_sample`) for ε- or v-prediction.
///
/// S steps make S + 1 model evaluations: the grid repeats its second timestep, and the first
/// update is redone from the same sample with the mean of the first two ε (a Heun-like start);
/// after that ε is extrapolated from up to four past evaluations with the Adams–Bashforth
/// weights (3, −1)/2, (23, −16, 5)/12, (55, −59, 37, −9)/24. A v-prediction model's outputs are combined
/// as they come, and the combination turned into ε = √ᾱ_t·v + √(1−ᾱ_t)·x at the update, as
/// `_get_prev_sample` does.
public struct PNDMSampler: TimestepGridSampler {
    public let timesteps: [Int]
    let alphasCumprod: [Float]
    /// ᾱ of the step after the last: 1 with `set_alpha_to_one`, else ᾱ₀.
    let finalAlpha: Float
    /// T // S, the distance between grid points.
    let stride: Int
    /// Past ε (`ets`, at most four, oldest first) and the sample the first update started from,
    /// from the workspace's pool.
    var history: [Tensor] = []
    var startSample: Tensor?
    public let prediction: PredictionType

    public init(schedule: NoiseSchedule, steps: Int, spacing: TimestepSpacing = .leading, stepsOffset: Int = 1,
                setAlphaToOne: Bool = false, prediction: PredictionType = .epsilon) {
        self.prediction = prediction
        let t = schedule.count
        let base: [Int] = switch spacing {
        case .leading: (0..<steps).map { $0 * (t / steps) + stepsOffset }
        case .linspace:
            // np.linspace(0, T − 1, S).round()
            Self.linspace(count: t, steps: steps)
        case .trailing: SigmaGrid.trailing(count: t, steps: steps).reversed()
        }
        // plms_timesteps = concat(ts[:-1], ts[-2:-1], ts[-1:])[::-1]: the second-highest repeated.
        var plms = Array(base.dropLast())
        if base.count >= 2 { plms.append(base[base.count - 2]) }
        if let last = base.last { plms.append(last) }
        timesteps = plms.reversed()
        alphasCumprod = schedule.alphasCumprod
        finalAlpha = setAlphaToOne ? 1 : (schedule.alphasCumprod.first ?? 1)
        stride = t / max(1, steps)
    }

    /// np.linspace(0, T − 1, S).round(): i·((T − 1)/(S − 1)) in float64, the end point exact.
    static func linspace(count t: Int, steps: Int) -> [Int] {
        guard steps > 1 else { return [0] }
        let step = Double(t - 1) / Double(steps - 1)
        return (0..<steps).map { i -> Int in
            let value: Double = i == steps - 1 ? Double(t - 1) : Double(i) * step
            return Int(value.rounded(.toNearestOrEven))
        }
    }

    /// - x: [N, C, H, W]
    public mutating func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                              workspace: Workspace) throws {
        var t = try timestep(index, sampler: "PNDMSampler.step")
        // `counter` is the step index: a new run starts with an empty history.
        if index == 0 { history = []; startSample = nil }
        if let held = history.last, held.shape != x.shape {
            throw TensorError.shapeMismatch(operation: "PNDMSampler.step", argument: "x",
                                            expected: "the previous step's \(held.shape)", actual: x.shape)
        }
        let eps = try denoiser.checkedNoise(x, timestep: Float(t), workspace: workspace, sampler: "PNDMSampler.step")
        var previousT = t - stride
        if index != 1 {
            if history.count == 4 { history.removeFirst() }
            let kept = try workspace.tensor(x.shape)
            for i in 0..<x.count { kept.data[i] = eps.data[i] }
            history.append(kept)
        } else {
            // The repeated grid point: redo the first update from its start at the first timestep.
            previousT = t
            t += stride
        }
        let combined = try workspace.tensor(x.shape)
        let (c, p) = (combined.data, x.data)
        let e = history.map(\.data)
        var source = p
        switch (history.count, index) {
        case (1, 0):
            for i in 0..<x.count { c[i] = e[0][i] }
            let start = try workspace.tensor(x.shape)
            for i in 0..<x.count { start.data[i] = p[i] }
            startSample = start
        case (1, 1):
            for i in 0..<x.count { c[i] = (eps.data[i] + e[0][i]) / 2 }
            if let start = startSample { source = start.data }
            startSample = nil
        case (2, _):
            for i in 0..<x.count { c[i] = (3 * e[1][i] - e[0][i]) / 2 }
        case (3, _):
            for i in 0..<x.count { c[i] = (23 * e[2][i] - 16 * e[1][i] + 5 * e[0][i]) / 12 }
        default:
            let w = Float(1.0 / 24.0 as Double)  // the Python float 1/24, cast to float32 by torch
            for i in 0..<x.count { c[i] = w * (55 * e[3][i] - 59 * e[2][i] + 37 * e[1][i] - 9 * e[0][i]) }
        }
        // _get_prev_sample (PNDM paper eq. 9), 0-d float32 scalars as upstream.
        let alpha = alphasCumprod[t]
        let alphaPrev = previousT >= 0 ? alphasCumprod[previousT] : finalAlpha
        let beta = 1 - alpha, betaPrev = 1 - alphaPrev
        let sampleCoefficient = (alphaPrev / alpha).squareRoot()
        let denominator = alpha * betaPrev.squareRoot() + (alpha * beta * alphaPrev).squareRoot()
        let difference = alphaPrev - alpha
        if prediction == .vPrediction {
            let (sqrtAlpha, sqrtBeta) = (alpha.squareRoot(), beta.squareRoot())
            for i in 0..<x.count { c[i] = sqrtAlpha * c[i] + sqrtBeta * source[i] }
        }
        for i in 0..<x.count {
            p[i] = sampleCoefficient * source[i] - difference * c[i] / denominator
        }
    }
}
