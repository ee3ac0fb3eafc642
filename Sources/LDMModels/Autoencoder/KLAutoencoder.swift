import LDMTensor

/// The KL first stage of Stable Diffusion 1.x (CompVis ldm/models/autoencoder.py `AutoencoderKL`, diffusers
/// `AutoencoderKL`), built from the same `AutoencoderLayout` walk and `VQStage`s as the VQ model (`kind: .kl`):
/// - `moments` = quant_conv(encoder(x)): the posterior's mean (first z channels) and log-variance (last z);
/// - `encode` = the mean (diffusers `latent_dist.mode()` / `.mean`), unscaled;
/// - `decode` = decoder(post_quant_conv(z)), unscaled.
/// Scaling by `scaling_factor` is `FirstStage`'s, as for the conv autoencoder. Sampling the posterior
/// (what diffusers' StableDiffusionInpaintPipeline does to the masked image) is mean + exp(½·clamp(logvar,
/// −30, 20))·ε (diffusers models/autoencoders/vae.py `DiagonalGaussianDistribution.sample`); it needs the
/// generator's ε and is left to the pipeline that brings one.
public final class KLAutoencoder: Sendable {
    public let config: KLAutoencoderConfig
    let encoder: VQStage
    let decoder: VQStage
    let quantConv: TracedConv
    let postQuantConv: TracedConv

    /// Builds the model from canonical weights (`kl.…`) as `AutoencoderLayout(config)` lists them.
    public init(_ weights: any WeightProvider, config c: KLAutoencoderConfig) throws {
        config = c
        let layout = AutoencoderLayout(c)
        encoder = try VQStage(weights, layout.encoder)
        decoder = try VQStage(weights, layout.decoder)
        quantConv = (layout.quantConv.path.trace, try Conv2dLayer(weights, layout.quantConv))
        postQuantConv = (layout.postQuantConv.path.trace, try Conv2dLayer(weights, layout.postQuantConv))
    }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → moments [N, 2z, H/f, W/f] (mean, then log-variance)
    public func moments(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        try encoder.encode(image, then: quantConv, inChannels: config.inChannels, factor: config.downsamplingFactor,
                           operation: "KL encode", workspace: ws, trace: trace)
    }

    /// - image: [N, 3, H, W] → the posterior mean [N, z, H/f, W/f] (the first z channels of `moments`)
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        let m = try moments(image, workspace: ws, trace: trace)
        let (n, z, plane) = (m.shape[0], config.latentChannels, m.shape[2] * m.shape[3])
        let mean = try ws.tensor([n, z, m.shape[2], m.shape[3]])
        for i in 0..<n { (mean.data + i * z * plane).update(from: m.data + i * 2 * z * plane, count: z * plane) }
        return mean
    }

    /// - latent: [N, z, h, w] (unscaled) → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ latent: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        guard latent.rank == 4, latent.shape[1] == config.latentChannels else {
            throw TensorError.shapeMismatch(operation: "KL decode", argument: "latent", expected: "[N, \(config.latentChannels), h, w]",
                                            actual: latent.shape)
        }
        return try decoder.decode(latent, after: postQuantConv, workspace: ws, trace: trace)
    }
}
