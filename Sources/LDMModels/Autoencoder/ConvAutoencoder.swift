import LDMTensor

/// The normalisation-free first stage with continuous latents (Scripts/train/conv_autoencoder.py
/// `ConvAutoencoder`). `encode` and `decode` are the module's own, on unscaled latents z; the
/// diffusion latent z · scaling_factor is `FirstStage`'s business. No quantisation.
public final class ConvAutoencoder: Sendable {
    public let config: ConvAutoencoderConfig
    public let layout: ConvAutoencoderLayout
    let encoder: ConvStage
    let decoder: ConvStage

    public init(_ weights: any WeightProvider, config c: ConvAutoencoderConfig) throws {
        config = try c.validated(path: "ConvAutoencoderConfig")  // files are checked on open; this guards direct callers
        layout = ConvAutoencoderLayout(c)
        encoder = try ConvStage(weights, layout.encoder, upsamples: false)
        decoder = try ConvStage(weights, layout.decoder, upsamples: true)
    }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → z: [N, latentChannels, H/f, W/f] (unscaled)
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        let f = config.downsamplingFactor, rgb = ConvAutoencoderConfig.imageChannels
        guard image.rank == 4, image.shape[1] == rgb, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw TensorError.shapeMismatch(operation: "conv autoencoder encode", argument: "image",
                                            expected: "[N, \(rgb), H, W] with H and W multiples of \(f)", actual: image.shape)
        }
        return try encoder(image, ws, trace: trace)
    }

    /// - z: [N, latentChannels, h, w] (unscaled) → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ z: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        guard z.rank == 4, z.shape[1] == config.latentChannels else {
            throw TensorError.shapeMismatch(operation: "conv autoencoder decode", argument: "latent",
                                            expected: "[N, \(config.latentChannels), h, w]", actual: z.shape)
        }
        return try decoder(z, ws, trace: trace)
    }
}
