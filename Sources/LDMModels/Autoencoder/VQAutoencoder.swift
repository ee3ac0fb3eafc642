import LDMTensor

/// The VQ first stage (`VQModelInterface`; docs/ldm-spec.md §1.2): `encode` = quant_conv(encoder(x)) without
/// quantisation, `decode` = decoder(post_quant_conv(quantize(z))) — quantisation happens at decode.
public final class VQAutoencoder: Sendable {
    public let config: AutoencoderConfig
    let encoder: VQStage
    let decoder: VQStage
    let quantConv: (trace: String, layer: Conv2dLayer)
    let postQuantConv: (trace: String, layer: Conv2dLayer)
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
        let f = config.downsamplingFactor
        guard image.rank == 4, image.shape[1] == config.inChannels, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw TensorError.shapeMismatch(operation: "VQ encode", argument: "image",
                                            expected: "[N, \(config.inChannels), H, W] with H and W multiples of \(f)", actual: image.shape)
        }
        let h = try quantConv.layer(try encoder(image, ws, trace: trace), ws)
        trace?(quantConv.trace, h)
        return h
    }

    /// - latent: [N, embedDim, h, w] → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ latent: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        guard latent.rank == 4, latent.shape[1] == config.embedDim else {
            throw TensorError.shapeMismatch(operation: "VQ decode", argument: "latent", expected: "[N, \(config.embedDim), h, w]", actual: latent.shape)
        }
        let (quantized, _) = try quantizer.layer(latent, ws)
        trace?(quantizer.trace, quantized)
        let h = try postQuantConv.layer(quantized, ws)
        trace?(postQuantConv.trace, h)
        return try decoder(h, ws, trace: trace)
    }

    /// Nearest-code indices for a latent, row-major per image (for tests and inspection).
    public func codes(_ latent: Tensor, workspace ws: Workspace) throws -> [Int32] {
        try quantizer.layer(latent, ws).1
    }
}
