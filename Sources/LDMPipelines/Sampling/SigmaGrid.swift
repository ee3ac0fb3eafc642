import Foundation
import LDMModels
import LDMTensor

/// How a diffusers scheduler spreads S inference steps over the T training timesteps
/// (`timestep_spacing`; each scheduler class has its own default, and a scheduler_config.json that
/// names one overrides it).
public enum TimestepSpacing: String, Sendable, Codable, CaseIterable {
    /// `np.linspace(0, T − 1, S)` (fractional for the σ samplers, rounded for the others).
    case linspace
    /// `arange(S)·(T // S) + steps_offset` (the LDM and SD 1.x configs).
    case leading
    /// `round(arange(T, 0, −T/S)) − 1`.
    case trailing
}

/// The σ-space quantities diffusers' Euler-family and DPM-Solver schedulers derive from ᾱ, with the
/// references' precision: σ_t = √((1 − ᾱ_t)/ᾱ_t) in float32 (torch on the float32 ᾱ), interpolation
/// and the Karras ramp in float64 (numpy), stored back as float32.
enum SigmaGrid {
    /// σ_t for t = 0..<T, float32 as `((1 − alphas_cumprod) / alphas_cumprod) ** 0.5` in torch.
    static func trainingSigmas(_ alphasCumprod: [Float]) -> [Float] {
        alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    }

    /// Descending fractional timesteps of the Euler schedulers (scheduling_euler_discrete.py
    /// `set_timesteps`), float32.
    static func eulerTimesteps(count t: Int, steps s: Int, spacing: TimestepSpacing, stepsOffset: Int) -> [Float] {
        switch spacing {
        case .linspace:
            // np.linspace(0, T − 1, S, dtype=float32): i·step in float64, the end point exact, then float32.
            let step = s > 1 ? Double(t - 1) / Double(s - 1) : 0
            return (0..<s).map { $0 == s - 1 && s > 1 ? Float(t - 1) : Float(Double($0) * step) }.reversed()
        case .leading:
            let ratio = t / s
            return (0..<s).map { Float($0 * ratio + stepsOffset) }.reversed()
        case .trailing:
            return trailing(count: t, steps: s).map(Float.init)
        }
    }

    /// `np.round(np.arange(T, 0, −T/S)) − 1`, descending.
    static func trailing(count t: Int, steps s: Int) -> [Int] {
        // np.arange(T, 0, −T/S): ceil(T / (T/S)) values T + i·(−T/S) in float64.
        let step = -Double(t) / Double(s)
        let n = Int((Double(-t) / step).rounded(.up))
        return (0..<n).map { Int((Double(t) + Double($0) * step).rounded(.toNearestOrEven)) - 1 }
    }

    /// `np.interp(x, arange(len(fp)), fp)` in float64 (numpy's compiled `interp`: slope·(x − x_j) + f_j,
    /// the exact table value at a grid point).
    static func interpolate(_ x: Double, _ fp: [Float]) -> Double {
        guard let last = fp.last else { return 0 }
        if x <= 0 { return Double(fp[0]) }
        if x >= Double(fp.count - 1) { return Double(last) }
        let j = Int(x.rounded(.down))
        if Double(j) == x { return Double(fp[j]) }
        // (f_{j+1} − f_j) / (x_{j+1} − x_j) with unit spacing of the table's abscissae.
        let slope = Double(fp[j + 1]) - Double(fp[j])
        return slope * (x - Double(j)) + Double(fp[j])
    }

    /// The Karras et al. (2022) ρ = 7 ramp from σ_max to σ_min over `steps` values, float64
    /// (`_convert_to_karras`).
    static func karras(sigmaMin: Double, sigmaMax: Double, steps: Int) -> [Double] {
        let rho = 7.0
        let minInv = pow(sigmaMin, 1 / rho), maxInv = pow(sigmaMax, 1 / rho)
        return (0..<steps).map { i in
            // np.linspace(0, 1, S): i·(1/(S − 1)), the end point exact.
            let ramp = steps == 1 ? 0 : (i == steps - 1 ? 1 : Double(i) * (1 / Double(steps - 1)))
            return pow(maxInv + ramp * (minInv - maxInv), rho)
        }
    }

    /// The Karras ramp from σ_max to σ_min and each value's fractional timestep (`_sigma_to_t` over the float32 log
    /// of the training σ table `table`, as np.log of it stays float32): the `use_karras_sigmas` branch of
    /// diffusers' Euler and DPM-Solver `set_timesteps`, which differ only in rounding the timesteps.
    static func karrasGrid(table: [Float], sigmaMin: Double, sigmaMax: Double, steps: Int) -> (sigmas: [Double], timesteps: [Double]) {
        let logSigmas = table.map { log($0) }
        let ramp = karras(sigmaMin: sigmaMin, sigmaMax: sigmaMax, steps: steps)
        return (ramp, ramp.map { timestep(sigma: $0, logSigmas: logSigmas) })
    }

    /// The fractional timestep whose log σ interpolates to `sigma` (`_sigma_to_t`): log σ_t is the
    /// float32 table, the differences of neighbours float32, the rest float64.
    static func timestep(sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = log(max(sigma, 1e-10))
        // cumsum(dists >= 0).argmax(): the last index whose log σ ≤ log σ (0 when none), clipped to T − 2.
        var low = 0
        for (i, l) in logSigmas.enumerated() where logSigma - Double(l) >= 0 { low = i }
        low = min(low, logSigmas.count - 2)
        let lo = logSigmas[low], hi = logSigmas[low + 1]
        var w = (Double(lo) - logSigma) / Double(lo - hi)
        w = min(max(w, 0), 1)
        return (1 - w) * Double(low) + w * Double(low + 1)
    }
}

/// The step grid of diffusers' Euler schedulers (scheduling_euler_discrete.py and
/// scheduling_euler_ancestral_discrete.py `set_timesteps`, interpolation "linear", final σ 0): fractional
/// timesteps, σ interpolated at them (or on the Karras ramp between the first and last of those, with
/// `use_karras_sigmas`), and the initial noise's σ.
struct EulerGrid: Sendable {
    /// Descending, fractional (float32), one per step.
    let timesteps: [Float]
    /// σ per step plus the final 0, float32.
    let sigmas: [Float]
    /// `init_noise_sigma`: max σ for linspace/trailing spacing, √(max σ² + 1) for leading.
    let initialNoiseSigma: Float

    /// - karras: σ on the Karras et al. ρ = 7 ramp from the spacing grid's first σ to its last, each step's
    ///   timestep the fractional `_sigma_to_t` of its σ (`use_karras_sigmas=True`, set_timesteps lines
    ///   "if self.config.use_karras_sigmas").
    init(schedule: NoiseSchedule, steps: Int, spacing: TimestepSpacing, stepsOffset: Int, karras: Bool = false) {
        let table = SigmaGrid.trainingSigmas(schedule.alphasCumprod)
        let spaced = SigmaGrid.eulerTimesteps(count: schedule.count, steps: steps, spacing: spacing, stepsOffset: stepsOffset)
        // np.interp in float64; the Karras ramp takes its ends from these float64 values.
        let interpolated = spaced.map { SigmaGrid.interpolate(Double($0), table) }
        if karras, let first = interpolated.first, let last = interpolated.last {
            let karras = SigmaGrid.karrasGrid(table: table, sigmaMin: last, sigmaMax: first, steps: steps)
            timesteps = karras.timesteps.map { Float($0) }
            sigmas = karras.sigmas.map { Float($0) } + [0]
        } else {
            timesteps = spaced
            sigmas = interpolated.map { Float($0) } + [0]
        }
        let maxSigma = sigmas.max() ?? 0
        initialNoiseSigma = spacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }

    /// x̂₀ from the model's output at step `index`, per element (scheduling_euler_discrete.py and
    /// scheduling_euler_ancestral_discrete.py `step`, float32 in their order): x − σ·ε, or for v-prediction
    /// v·(−σ/√(σ² + 1)) + x/(σ² + 1) (c_out and c_skip of the VP model seen in σ space).
    /// - x, output: [N, C, H, W] → x̂₀: [N, C, H, W] (from `workspace`)
    func predictedOriginal(_ index: Int, x: Tensor, output: Tensor, prediction: PredictionType, workspace: Workspace) throws -> Tensor {
        let sigma = sigmas[index]
        let original = try workspace.tensor(x.shape)
        let (p, m, o) = (x.data, output.data, original.data)
        switch prediction {
        case .epsilon:
            for i in 0..<x.count { o[i] = p[i] - sigma * m[i] }
        case .vPrediction:
            let variance = sigma * sigma + 1
            let out = -sigma / variance.squareRoot()
            for i in 0..<x.count { o[i] = m[i] * out + p[i] / variance }
        }
        return original
    }

    /// The model's input at step `index`: x / √(σ² + 1) (`scale_model_input`), into `workspace`.
    /// - x: [N, C, H, W] → [N, C, H, W]
    func scaledInput(_ index: Int, x: Tensor, workspace: Workspace) throws -> Tensor {
        let sigma = sigmas[index]
        let scale = (sigma * sigma + 1).squareRoot()
        let out = try workspace.tensor(x.shape)
        let (p, o) = (x.data, out.data)
        for i in 0..<x.count { o[i] = p[i] / scale }
        return out
    }
}

/// The Euler-family samplers: step count, initial noise and U-Net timesteps all come from their grid.
protocol EulerGridSampler: DiffusionSampler {
    var grid: EulerGrid { get }
    var prediction: PredictionType { get }
}

extension EulerGridSampler {
    public var stepCount: Int { grid.timesteps.count }
    public var initialNoiseSigma: Float { grid.initialNoiseSigma }
    /// The U-Net timesteps, descending (fractional).
    public var timesteps: [Float] { grid.timesteps }
}
