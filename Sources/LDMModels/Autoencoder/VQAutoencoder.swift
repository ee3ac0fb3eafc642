import LDMTensor

/// The VQ first stage (`VQModelInterface`; ldm-spec §1.2): `encode` = quant_conv(encoder(x)) without
/// quantisation, `decode` = decoder(post_quant_conv(quantize(z))) — quantisation happens at decode.
public final class VQAutoencoder: Sendable {
    public let config: AutoencoderConfig
    let encoder: VQEncoder
    let decoder: VQDecoder
    let quantConv: Conv2dLayer
    let postQuantConv: Conv2dLayer
    let quantizer: VectorQuantizer

    public init(_ weights: any WeightProvider, config c: AutoencoderConfig) throws {
        config = c
        let w = WeightScope(weights, prefix: AutoencoderLayout.prefix)
        encoder = try VQEncoder(w["encoder"], config: c)
        decoder = try VQDecoder(w["decoder"], config: c)
        quantConv = try Conv2dLayer(w["quant_conv"], out: c.embedDim, in: c.zChannels, kernel: 1)
        postQuantConv = try Conv2dLayer(w["post_quant_conv"], out: c.zChannels, in: c.embedDim, kernel: 1)
        quantizer = try VectorQuantizer(w["quantize"], codes: c.codebookSize, dimension: c.embedDim)
    }

    /// - image: [N, 3, H, W] in [−1, 1], H and W multiples of f → latent [N, embedDim, H/f, W/f]
    public func encode(_ image: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        let f = config.downsamplingFactor
        guard image.rank == 4, image.shape[1] == config.inChannels, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw TensorError.shapeMismatch(operation: "VQ encode", argument: "image",
                                            expected: "[N, \(config.inChannels), H, W] with H and W multiples of \(f)", actual: image.shape)
        }
        let h = try quantConv(try encoder(image, ws, trace: trace), ws)
        trace?("quant_conv", h)
        return h
    }

    /// - latent: [N, embedDim, h, w] → image [N, 3, h·f, w·f] (not clamped)
    public func decode(_ latent: Tensor, workspace ws: Workspace, trace: ModelTrace? = nil) throws -> Tensor {
        guard latent.rank == 4, latent.shape[1] == config.embedDim else {
            throw TensorError.shapeMismatch(operation: "VQ decode", argument: "latent", expected: "[N, \(config.embedDim), h, w]", actual: latent.shape)
        }
        let (quantized, _) = try quantizer(latent, ws)
        trace?("quantize", quantized)
        let h = try postQuantConv(quantized, ws)
        trace?("post_quant_conv", h)
        return try decoder(h, ws, trace: trace)
    }

    /// Nearest-code indices for a latent, row-major per image (for tests and inspection).
    public func codes(_ latent: Tensor, workspace ws: Workspace) throws -> [Int32] {
        try quantizer(latent, ws).1
    }
}
