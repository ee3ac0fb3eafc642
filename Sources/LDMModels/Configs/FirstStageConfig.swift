/// Which first-stage autoencoder a model has, with its hyper-parameters. Everything outside the
/// autoencoders asks this (or `FirstStage`) for latent channels and the downsampling factor, so the
/// U-Net, conditioning, tiling and memory planning do not care which one it is.
public enum FirstStageConfig: Sendable, Equatable {
    /// CompVis VQ-f4 (`first_stage_model.*`, diffusers `vqvae/`): quantises at decode.
    case vq(AutoencoderConfig)
    /// The bundled normalisation-free conv autoencoder (`autoencoder/`): continuous, scaled latents.
    case conv(ConvAutoencoderConfig)
    /// Stable Diffusion's KL-f8 (CompVis `AutoencoderKL` `first_stage_model.*`, diffusers `vae/`): continuous,
    /// scaled latents (the posterior mean × scaling_factor).
    case kl(KLAutoencoderConfig)

    /// Channels of the diffusion latent: VQ `embed_dim` (3 for VQ-f4), conv and KL `latent_channels` (4).
    public var latentChannels: Int {
        switch self {
        case .vq(let c): c.embedDim
        case .conv(let c): c.latentChannels
        case .kl(let c): c.latentChannels
        }
    }

    /// Image pixels per latent pixel along each side.
    public var downsamplingFactor: Int {
        switch self {
        case .vq(let c): c.downsamplingFactor
        case .conv(let c): c.downsamplingFactor
        case .kl(let c): c.downsamplingFactor
        }
    }

    /// The canonical parameter list (`vq.…`, `ae.…` or `kl.…` names).
    public var parameters: [ParameterSpec] {
        switch self {
        case .vq(let c): AutoencoderLayout.parameters(c)
        case .conv(let c): ConvAutoencoderLayout.parameters(c)
        case .kl(let c): AutoencoderLayout.parameters(c)
        }
    }

    public var vq: AutoencoderConfig? {
        if case .vq(let c) = self { return c }
        return nil
    }

    public var conv: ConvAutoencoderConfig? {
        if case .conv(let c) = self { return c }
        return nil
    }

    public var kl: KLAutoencoderConfig? {
        if case .kl(let c) = self { return c }
        return nil
    }
}
