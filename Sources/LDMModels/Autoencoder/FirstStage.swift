import LDMTensor

/// The model's first stage, whichever autoencoder it is, in the diffusion model's terms: `encode`
/// gives the latent the U-Net sees and `decode` takes it back to pixels.
/// - VQ (CompVis `VQModelInterface`): encode does not quantise, decode does; latents are not scaled
///   (the LDM configs' `scale_factor` is 1.0).
/// - conv (Scripts/train/conv_autoencoder.py): the diffusion latent is encode(x) · scaling_factor and
///   decode divides by it first, as diffusers does with `vae.config.scaling_factor`; both in float32
///   with the factor rounded to float32, as PyTorch computes `z * s` on a float32 tensor.
/// - KL (Stable Diffusion's `AutoencoderKL`): the same scaling of the posterior mean (`KLAutoencoder.encode`);
///   decode is decoder(post_quant_conv(z / s)).
public enum FirstStage: Sendable {
    case vq(VQAutoencoder)
    case conv(ConvAutoencoder)
    case kl(KLAutoencoder)

    public init(_ weights: any WeightProvider, config: FirstStageConfig) throws {
        switch config {
        case .vq(let c): self = .vq(try VQAutoencoder(weights, config: c))
        case .conv(let c): self = .conv(try ConvAutoencoder(weights, config: c))
        case .kl(let c): self = .kl(try KLAutoencoder(weights, config: c))
        }
    }

    public var config: FirstStageConfig {
        switch self {
        case .vq(let m): .vq(m.config)
        case .conv(let m): .conv(m.config)
        case .kl(let m): .kl(m.config)
        }
    }

    public var latentChannels: Int { config.latentChannels }
    public var downsamplingFactor: Int { config.downsamplingFactor }
    /// Channels of the images it encodes and decodes (RGB for every supported model).
    public var imageChannels: Int {
        switch self {
        case .vq(let m): m.config.outChannels
        case .conv: ConvAutoencoderConfig.imageChannels
        case .kl(let m): m.config.outChannels
        }
    }

    /// How many latent pixels each output depends on around its own position, when that is bounded:
    /// tiles overlapping by twice this much decode (or encode) the interior exactly as the whole image.
    /// nil for VQ and KL, whose GroupNorm and mid attention see the whole input.
    public var reach: (decoder: Int, encoder: Int)? {
        switch self {
        case .vq, .kl: nil
        case .conv(let m): (m.layout.decoderReach, m.layout.encoderReach)
        }
    }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → diffusion latent [N, latentChannels, H/f, W/f]
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        switch self {
        case .vq(let m):
            return try m.encode(image, workspace: ws, trace: trace)
        case .conv(let m):
            let z = try m.encode(image, workspace: ws, trace: trace)
            try Elementwise.scale(z, by: Float(m.config.scalingFactor), into: z)
            return z
        case .kl(let m):
            let z = try m.encode(image, workspace: ws, trace: trace)
            try Elementwise.scale(z, by: Float(m.config.scalingFactor), into: z)
            return z
        }
    }

    /// - latent: [N, latentChannels, h, w] diffusion latent → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ latent: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        switch self {
        case .vq(let m):
            return try m.decode(latent, workspace: ws, trace: trace)
        case .conv(let m):
            let z = try ws.tensor(latent.shape)
            try Elementwise.divide(latent, by: Float(m.config.scalingFactor), into: z)
            return try m.decode(z, workspace: ws, trace: trace)
        case .kl(let m):
            let z = try ws.tensor(latent.shape)
            try Elementwise.divide(latent, by: Float(m.config.scalingFactor), into: z)
            return try m.decode(z, workspace: ws, trace: trace)
        }
    }
}
