import LDMTensor

/// The VQ first stage (`VQModelInterface`; docs/ldm-spec.md §1.2): `encode` = quant_conv(encoder(x)) without
/// quantisation, `decode` = decoder(post_quant_conv(quantize(z))) — quantisation happens at decode.
public final class VQAutoencoder: Sendable {
    public let config: AutoencoderConfig
    let encoder: VQStage
    let decoder: VQStage
    let quantConv: TracedConv
    let postQuantConv: TracedConv
    let quantizer: (trace: String, layer: VectorQuantizer)

    /// Builds the model from canonical weights (`vq.…`) as its `AutoencoderLayout` lists them.
    public init(_ weights: any WeightProvider, config c: AutoencoderConfig) throws {
        config = try c.validated(path: "AutoencoderConfig")  // files are checked on open; this guards direct callers
        let layout = AutoencoderLayout(c)
        encoder = try VQStage(weights, layout.encoder)
        decoder = try VQStage(weights, layout.decoder)
        quantConv = (layout.quantConv.path.trace, try Conv2dLayer(weights, layout.quantConv))
        postQuantConv = (layout.postQuantConv.path.trace, try Conv2dLayer(weights, layout.postQuantConv))
        let quantize = layout.quantize!  // a `.vq` walk always places the codebook
        quantizer = (quantize.path.trace, try VectorQuantizer(weights, quantize.codebook))
    }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → latent [N, embedDim, H/f, W/f]
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        try encoder.encode(image, then: quantConv, inChannels: config.inChannels, factor: config.downsamplingFactor,
                           operation: "VQ encode", workspace: ws, trace: trace)
    }

    /// - latent: [N, embedDim, h, w] → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ latent: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        guard latent.rank == 4, latent.shape[1] == config.embedDim else {
            throw TensorError.shapeMismatch(operation: "VQ decode", argument: "latent", expected: "[N, \(config.embedDim), h, w]", actual: latent.shape)
        }
        let (quantized, _) = try quantizer.layer(latent, ws)
        trace?(quantizer.trace, quantized)
        return try decoder.decode(quantized, after: postQuantConv, workspace: ws, trace: trace)
    }

    /// Nearest-code indices for a latent, row-major per image (for tests and inspection).
    public func codes(_ latent: Tensor, workspace ws: Workspace) throws -> [Int32] {
        try quantizer.layer(latent, ws).1
    }
}
