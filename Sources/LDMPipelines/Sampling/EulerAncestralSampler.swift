import LDMModels
import LDMTensor

/// Euler ancestral ("Euler a" in the web UIs), as diffusers' `EulerAncestralDiscreteScheduler`
/// (schedulers/scheduling_euler_ancestral_discrete.py `step`) for ε- or v-prediction (x̂₀ as
/// `EulerGrid.predictedOriginal`): an Euler step down
/// to σ_down, then fresh noise of σ_up, with σ_up² = σ_next²(σ² − σ_next²)/σ² and
/// σ_down² = σ_next² − σ_up². The step's noise is drawn after the model evaluation, from the
/// pipeline's one generator stream (the last step draws too, with σ_up = 0, as the reference
/// does). Grid, input scaling and initial noise as `EulerSampler`.
public struct EulerAncestralSampler: EulerGridSampler {
    let grid: EulerGrid
    public let prediction: PredictionType

    public init(schedule: NoiseSchedule, steps: Int, spacing: TimestepSpacing = .linspace, stepsOffset: Int = 1,
                prediction: PredictionType = .epsilon) {
        grid = EulerGrid(schedule: schedule, steps: steps, spacing: spacing, stepsOffset: stepsOffset)
        self.prediction = prediction
    }


    /// - x: [N, C, H, W]
    public func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                     workspace: Workspace) throws {
        try checkStep(index, sampler: "EulerAncestralSampler.step")
        let input = try grid.scaledInput(index, x: x, workspace: workspace)
        let output = try denoiser.checkedNoise(input, timestep: grid.timesteps[index], workspace: workspace,
                                               sampler: "EulerAncestralSampler.step")
        let original = try grid.predictedOriginal(index, x: x, output: output, prediction: prediction, workspace: workspace)
        let from = grid.sigmas[index], to = grid.sigmas[index + 1]
        // 0-d float32 tensor arithmetic, left to right as written upstream.
        let up = (to * to * (from * from - to * to) / (from * from)).squareRoot()
        let down = (to * to - up * up).squareRoot()
        let dt = down - from
        let noise = generator.normal(x.count)
        let (p, o) = (x.data, original.data)
        for i in 0..<x.count {
            let derivative = (p[i] - o[i]) / from
            let next = p[i] + derivative * dt
            p[i] = next + noise[i] * up
        }
    }
}
