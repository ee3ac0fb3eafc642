import LDMModels
import LDMTensor
#if canImport(Glibc)
import Glibc
#endif

/// DDPM ancestral sampling over all T steps (CompVis `ldm/models/diffusion/ddpm.py`,
/// `LatentDiffusion.p_sample` with clip_denoised = False, v_posterior = 0; docs/ldm-spec.md §5.3), with the
/// reference's float64-computed, float32-stored coefficients. `steps` does not apply: DDPM visits
/// every timestep, one model evaluation each. A v-prediction model's x̂₀ is √ᾱ_t·x_t − √(1−ᾱ_t)·v
/// (SD 2's ddpm.py `predict_start_from_z_and_v`, on its `sqrt_alphas_cumprod` and
/// `sqrt_one_minus_alphas_cumprod` buffers).
public struct DDPMSampler: TimestepGridSampler {
    public let timesteps: [Int]
    let recip: [Float], recipMinusOne: [Float], coef1: [Float], coef2: [Float], logVariance: [Float]
    let sqrtAlphas: [Float], sqrtOneMinusAlphas: [Float]
    public let prediction: PredictionType

    /// - prediction: nil: the config's.
    public init(_ config: NoiseScheduleConfig, prediction: PredictionType? = nil) {
        self.prediction = prediction ?? config.prediction
        let betas = config.betas
        var alphas: [Double] = [], cumprod: [Double] = []
        var product = 1.0
        for b in betas {
            alphas.append(1 - b)
            product *= 1 - b
            cumprod.append(product)
        }
        let previous = [1.0] + cumprod.dropLast()
        sqrtAlphas = cumprod.map { Float($0.squareRoot()) }
        sqrtOneMinusAlphas = cumprod.map { Float((1 - $0).squareRoot()) }
        recip = cumprod.map { Float((1 / $0).squareRoot()) }
        recipMinusOne = cumprod.map { Float((1 / $0 - 1).squareRoot()) }
        coef1 = (0..<betas.count).map { Float(betas[$0] * previous[$0].squareRoot() / (1 - cumprod[$0])) }
        coef2 = (0..<betas.count).map { Float((1 - previous[$0]) * alphas[$0].squareRoot() / (1 - cumprod[$0])) }
        logVariance = (0..<betas.count).map { Float(log(max(betas[$0] * (1 - previous[$0]) / (1 - cumprod[$0]), 1e-20))) }
        timesteps = Array((0..<betas.count).reversed())
    }

    /// x ← x_{t−1} = μ_θ(x_t, t) + σ_t·z: x̂₀ = √(1/ᾱ_t)·x_t − √(1/ᾱ_t − 1)·ε (`predict_start_from_noise`;
    /// v: `predict_start_from_z_and_v`),
    /// μ = coef1·x̂₀ + coef2·x_t (`q_posterior`), σ_t = exp(½ log σ²_t), 0 at t = 0 (`nonzero_mask`).
    /// z is drawn at every step, t = 0 included, as `noise_like` does.
    /// - x: [N, z, h, w]
    public mutating func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                              workspace: Workspace) throws {
        let t = try timestep(index, sampler: "DDPMSampler.step")
        let eps = try denoiser.checkedNoise(x, timestep: Float(t), workspace: workspace, sampler: "DDPMSampler.step")
        let noise = generator.normal(x.count)
        let scale = t > 0 ? exp(0.5 * logVariance[t]) : 0
        let (p, e) = (x.data, eps.data)
        let velocity = prediction == .vPrediction
        for i in 0..<x.count {
            let x0 = velocity ? sqrtAlphas[t] * p[i] - sqrtOneMinusAlphas[t] * e[i] : recip[t] * p[i] - recipMinusOne[t] * e[i]
            p[i] = coef1[t] * x0 + coef2[t] * p[i] + scale * noise[i]
        }
    }
}
