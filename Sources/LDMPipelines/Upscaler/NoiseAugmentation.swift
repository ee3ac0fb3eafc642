import LDMModels
import LDMTensor

/// The x4 upscaler's low-res noise augmentation (`NoiseAugmentationConfig`): x_aug = √ᾱ_l·x + √(1 − ᾱ_l)·ε at noise
/// level l of its own schedule, as diffusers' `DDPMScheduler.add_noise` computes it (ᾱ in float32 from torch's float32
/// linspace and cumprod; `alphas_cumprod[t] ** 0.5` and `(1 − alphas_cumprod[t]) ** 0.5` in float32, then
/// a·x + b·ε per element).
public struct NoiseAugmentation: Sendable {
    public let config: NoiseAugmentationConfig
    let alphasCumprod: [Float]

    public init(_ config: NoiseAugmentationConfig) {
        self.config = config
        alphasCumprod = NoiseSchedule(config.schedule, precision: .diffusers).alphasCumprod
    }

    /// Accepted noise levels: 0 … max_noise_level.
    public var levels: ClosedRange<Int> { 0...config.maxNoiseLevel }

    /// - image: [1, 3, h, w] in [−1, 1], noise: the same shape (the generator's first draw) → the noised image
    public func noised(_ image: Tensor, level: Int, noise: Tensor) throws -> Tensor {
        guard levels.contains(level) else { throw PipelineError.noiseLevel(level, maximum: config.maxNoiseLevel) }
        guard noise.shape == image.shape else {
            throw PipelineError.shapeMismatch(argument: "augmentation noise", expected: "\(image.shape)", actual: noise.shape)
        }
        let alpha = alphasCumprod[level]
        let (a, b) = (alpha.squareRoot(), (1 - alpha).squareRoot())
        let out = try Tensor(shape: image.shape)
        let (x, e, o) = (image.data, noise.data, out.data)
        for i in 0..<out.count { o[i] = a * x[i] + b * e[i] }
        return out
    }
}
