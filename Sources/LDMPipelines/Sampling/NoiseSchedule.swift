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
        /// second half from the end), squared, 1 − β and cumprod in float32.
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
            var product: Float = 1
            alphasCumprod = (0..<n).map { i in
                let s = i < n / 2 ? start + step * Float(i) : end - step * Float(n - i - 1)
                product *= 1 - s * s
                return product
            }
        }
    }

    public var count: Int { alphasCumprod.count }
}
