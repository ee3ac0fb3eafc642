import LDMTensor

/// The normalisation-free first stage with continuous latents (Scripts/train/conv_autoencoder.py
/// `ConvAutoencoder`). `encode` and `decode` are the module's own, on unscaled latents z; the
/// diffusion latent z · scaling_factor is `FirstStage`'s business. No quantisation.
///
/// With a decoder adapter (`decoderAdapterRank`) the file's decoder stays the shared first stage's
/// (`reconstruct`), and `decode`, which the pipelines call on the latents their sampler returns, runs the
/// decoder with the adapter merged in: Scripts/train/experiments/decoder_adapter.py, docs/models.md.
public final class ConvAutoencoder: Sendable {
    public let config: ConvAutoencoderConfig
    public let layout: ConvAutoencoderLayout
    let encoder: ConvStage
    let decoder: ConvStage
    /// `decoder` with `layout.decoderAdapter` merged in; nil without an adapter.
    let samplerDecoder: ConvStage?

    public init(_ weights: any WeightProvider, config c: ConvAutoencoderConfig) throws {
        config = try c.validated(path: "ConvAutoencoderConfig")  // files are checked on open; this guards direct callers
        layout = ConvAutoencoderLayout(c)
        encoder = try ConvStage(weights, layout.encoder, upsamples: false)
        decoder = try ConvStage(weights, layout.decoder, upsamples: true)
        samplerDecoder = layout.decoderAdapter.isEmpty ? nil
            : try ConvStage(AdaptedWeights(weights, adapters: layout.decoderAdapter), layout.decoder, upsamples: true)
    }

    /// Whether `decode` adds a decoder adapter to the shared decoder that `reconstruct` runs.
    public var hasDecoderAdapter: Bool { samplerDecoder != nil }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → z: [N, latentChannels, H/f, W/f] (unscaled)
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        let f = config.downsamplingFactor, rgb = ConvAutoencoderConfig.imageChannels
        guard image.rank == 4, image.shape[1] == rgb, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw TensorError.shapeMismatch(operation: "conv autoencoder encode", argument: "image",
                                            expected: "[N, \(rgb), H, W] with H and W multiples of \(f)", actual: image.shape)
        }
        return try encoder(image, ws, trace: trace)
    }

    /// A sampler's latents to pixels: the decoder with its adapter when the model has one, else `reconstruct`.
    /// - z: [N, latentChannels, h, w] (unscaled) → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ z: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        try run(samplerDecoder ?? decoder, z, ws, trace: trace)
    }

    /// The shared first stage's own decoder, the inverse of `encode` (what its reconstruction PSNR measures).
    /// - z: [N, latentChannels, h, w] (unscaled) → image [N, 3, h·f, w·f] (not clamped)
    public func reconstruct(_ z: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        try run(decoder, z, ws, trace: trace)
    }

    private func run(_ stage: ConvStage, _ z: Tensor, _ ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        guard z.rank == 4, z.shape[1] == config.latentChannels else {
            throw TensorError.shapeMismatch(operation: "conv autoencoder decode", argument: "latent",
                                            expected: "[N, \(config.latentChannels), h, w]", actual: z.shape)
        }
        return try stage(z, ws, trace: trace)
    }
}
