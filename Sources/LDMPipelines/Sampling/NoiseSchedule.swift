import LDMModels

/// ᾱ_t for t = 0..<T, computed the way each reference does (docs/ldm-spec.md §1.4): the numbers differ in
/// the last bits, and parity needs the right ones.
public struct NoiseSchedule: Sendable, Equatable {
    /// How ᾱ is computed.
    public enum Precision: Sendable, Equatable {
        /// CompVis `make_beta_schedule("linear")`: linspace of √β in float64, squared, cumprod in
        /// float64, stored as float32 buffers.
        case compVis
        /// diffusers `scaled_linear`: torch.linspace of √β in float32 (first half from the start,
        /// second half from the end, each value one fused multiply-add), squared and 1 − β in float32,
        /// cumprod accumulated in float64 and stored float32 (torch 2.15 on the CPU).
        case diffusers
    }

    public let alphasCumprod: [Float]

    public init(_ config: NoiseScheduleConfig, precision: Precision) {
        let n = config.timesteps
        switch precision {
        case .compVis:
            var product = 1.0
            alphasCumprod = config.betas.map { beta in
                product *= 1 - beta
                return Float(product)
            }
        case .diffusers:
            let start = Float(config.linearStart.squareRoot()), end = Float(config.linearEnd.squareRoot())
            let step = (end - start) / Float(n - 1)
            // ATen's linspace kernel (RangeFactoriesKernel.cpp) computes `start + step * idx` and
            // `end - step * (steps - idx - 1)`, which its compiler contracts into one fused multiply-add (one
            // rounding; two roundings put 202 of SD's and the x4 upscaler's 1000 √β one ulp off). Its cumprod
            // accumulates in `acc_type<float>`, float64 on the CPU, rounding each output once (a float32
            // product put 774 of 1000 ᾱ off, up to 5.4e-7 relative: σ_max of the x4 upscaler one ulp high).
            var product: Double = 1
            alphasCumprod = (0..<n).map { i in
                let s = i < n / 2 ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(n - i - 1))
                product *= Double(1 - s * s)
                return Float(product)
            }
        }
    }

    public var count: Int { alphasCumprod.count }
}
