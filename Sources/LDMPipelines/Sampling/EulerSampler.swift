import LDMModels
import LDMTensor

/// Euler's method on the probability-flow ODE in σ (Karras et al. 2022, Algorithm 1 without churn),
/// as diffusers' `EulerDiscreteScheduler` with its defaults (s_churn 0, "linspace" spacing unless the
/// model's scheduler config names another; schedulers/scheduling_euler_discrete.py `step`), for
/// ε- or v-prediction (`EulerGrid.predictedOriginal`). The sampler works on x = x₀ + σ·ε: the initial noise is scaled by
/// `initialNoiseSigma` and the model sees x / √(σ² + 1). One model evaluation per step, at the
/// step's fractional timestep.
public struct EulerSampler: EulerGridSampler {
    let grid: EulerGrid
    public let prediction: PredictionType

    /// - karras: σ on the Karras et al. ρ = 7 ramp (`use_karras_sigmas=True`; "Euler" with the "Karras" schedule
    ///   in the web UIs), `EulerGrid`.
    public init(schedule: NoiseSchedule, steps: Int, spacing: TimestepSpacing = .linspace, stepsOffset: Int = 1,
                karras: Bool = false, prediction: PredictionType = .epsilon) {
        grid = EulerGrid(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: stepsOffset, karras: karras)
        self.prediction = prediction
    }

    /// One step in place, x ← x + (x − x̂₀)/σ · (σ_next − σ) with x̂₀ from the model's output
    /// (`EulerGrid.predictedOriginal`), in float32 in the reference's order of operations.
    /// - x: [N, C, H, W]
    public func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                     workspace: Workspace) throws {
        try checkStep(index, sampler: "EulerSampler.step")
        let input = try grid.scaledInput(index, x: x, workspace: workspace)
        let output = try denoiser.checkedNoise(input, timestep: grid.timesteps[index], workspace: workspace, sampler: "EulerSampler.step")
        let sigma = grid.sigmas[index]
        let dt = grid.sigmas[index + 1] - sigma
        let original = try grid.predictedOriginal(index, x: x, output: output, prediction: prediction, workspace: workspace)
        let (p, o) = (x.data, original.data)
        for i in 0..<x.count {
            let derivative = (p[i] - o[i]) / sigma
            p[i] = p[i] + derivative * dt
        }
    }
}
