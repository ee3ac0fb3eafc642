import LDMModels
import LDMTensor

/// A sampler of the reverse diffusion: the timesteps to call the U-Net at, and how x_t moves
/// given ε. Samplers that need noise draw it from the pipeline's one generator stream.
public protocol DiffusionSampler: Sendable {
    /// U-Net timesteps in sampling order.
    var timesteps: [Int] { get }
    /// x ← the next sample, given ε predicted at `timesteps[index]`. - x, eps: [N, C, H, W]
    mutating func step(_ index: Int, x: Tensor, eps: Tensor, generator: inout TorchGenerator)
}

/// The sampler choices of the command line.
public enum SamplerKind: String, Sendable, CaseIterable {
    case ddim
    case dpmpp2m = "dpmpp-2m"
    case ddpm
}

extension DDIMSampler: DiffusionSampler {
    public mutating func step(_ index: Int, x: Tensor, eps: Tensor, generator: inout TorchGenerator) {
        let noise = eta > 0 ? generator.normal(x.count) : nil
        step(index, x: x, eps: eps, noise: noise)
    }
}

/// DDPM ancestral sampling over all T steps (CompVis `LatentDiffusion.p_sample`, clip_denoised =
/// False, v_posterior = 0; ldm-spec §5.3), with the reference's float64-computed, float32-stored
/// coefficients. `steps` does not apply: DDPM visits every timestep.
public struct DDPMSampler: DiffusionSampler {
    public let timesteps: [Int]
    let recip: [Float], recipMinusOne: [Float], coef1: [Float], coef2: [Float], logVariance: [Float]

    public init(_ config: NoiseScheduleConfig) {
        let betas = config.betas
        var alphas: [Double] = [], cumprod: [Double] = []
        var product = 1.0
        for b in betas {
            alphas.append(1 - b)
            product *= 1 - b
            cumprod.append(product)
        }
        let previous = [1.0] + cumprod.dropLast()
        recip = cumprod.map { Float((1 / $0).squareRoot()) }
        recipMinusOne = cumprod.map { Float((1 / $0 - 1).squareRoot()) }
        coef1 = (0..<betas.count).map { Float(betas[$0] * previous[$0].squareRoot() / (1 - cumprod[$0])) }
        coef2 = (0..<betas.count).map { Float((1 - previous[$0]) * alphas[$0].squareRoot() / (1 - cumprod[$0])) }
        logVariance = (0..<betas.count).map { Float(log(max(betas[$0] * (1 - previous[$0]) / (1 - cumprod[$0]), 1e-20))) }
        timesteps = Array((0..<betas.count).reversed())
    }

    public mutating func step(_ index: Int, x: Tensor, eps: Tensor, generator: inout TorchGenerator) {
        let t = timesteps[index]
        let noise = generator.normal(x.count)
        let scale = t > 0 ? exp(0.5 * logVariance[t]) : 0
        let (p, e) = (x.data, eps.data)
        for i in 0..<x.count {
            let x0 = recip[t] * p[i] - recipMinusOne[t] * e[i]
            p[i] = coef1[t] * x0 + coef2[t] * p[i] + scale * noise[i]
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
