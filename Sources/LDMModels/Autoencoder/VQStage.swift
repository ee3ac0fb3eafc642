import LDMTensor

/// One half of the VQ autoencoder, built from an `AutoencoderLayout.Stage`; each level, the mid block
/// and conv_in/conv_out report their outputs to `trace` under their diffusers names.
/// - model.py `Encoder` (double_z = false; docs/ldm-spec.md §2.6): downsampling pads (right 1, bottom 1) and
///   convolves 3x3 with stride 2 and no padding. x: [N, Cin, H, W] (H, W multiples of f) → [N, z, H/f, W/f]
/// - model.py `Decoder` (no tanh): mid block first, then the levels from `up.(L−1)` down to `up.0`,
///   each ending with a nearest 2× upsample and a 3x3 conv. z: [N, z, h, w] → [N, Cout, h·f, w·f]
struct VQStage: Sendable {
    let convIn: (trace: String, layer: Conv2dLayer)
    let levels: [(trace: String, blocks: [VQResnetBlock], resample: Conv2dLayer?)]
    let mid: (trace: String, block: VQMidBlock)
    let normOut: GroupNormLayer
    let convOut: (trace: String, layer: Conv2dLayer)
    /// Decoder: the mid block runs first and a nearest 2× upsample precedes each resampling conv.
    let upsamples: Bool

    init(_ weights: any WeightProvider, _ stage: AutoencoderLayout.Stage) throws {
        convIn = (stage.convIn.path.trace, try Conv2dLayer(weights, stage.convIn))
        levels = try stage.levels.map { level in
            (level.trace, try level.blocks.map { try VQResnetBlock(weights, $0) }, try level.resample.map { try Conv2dLayer(weights, $0) })
        }
        mid = (stage.mid.trace, try VQMidBlock(weights, stage.mid.block))
        normOut = try GroupNormLayer(weights, stage.normOut)
        convOut = (stage.convOut.path.trace, try Conv2dLayer(weights, stage.convOut))
        upsamples = stage.upsamples
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        var h = try convIn.layer(x, ws)
        trace?(convIn.trace, h)
        if upsamples {
            h = try mid.block(h, ws)
            trace?(mid.trace, h)
        }
        for level in levels {
            for block in level.blocks { h = try block(h, ws) }
            if let resample = level.resample { h = try resample(upsamples ? try ResBlock.upsample(h, ws) : h, ws) }
            trace?(level.trace, h)
        }
        if !upsamples {
            h = try mid.block(h, ws)
            trace?(mid.trace, h)
        }
        h = try convOut.layer(try normOut(h, silu: true, ws), ws)
        trace?(convOut.trace, h)
        return h
    }
}

/// A `(trace name, layer)` pair as the first stages hold their 1×1 convolutions.
typealias TracedConv = (trace: String, layer: Conv2dLayer)

extension VQStage {
    /// The encoder half shared by the VQ and KL first stages (CompVis `Encoder` then `quant_conv`),
    /// with their common input check.
    /// - image: [N, inChannels, H, W], H and W multiples of `factor` → quant_conv(encoder(image)) [N, C, H/f, W/f]
    func encode(_ image: Tensor, then quantConv: TracedConv, inChannels: Int, factor f: Int, operation: String,
                workspace ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        guard image.rank == 4, image.shape[1] == inChannels, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw TensorError.shapeMismatch(operation: operation, argument: "image",
                                            expected: "[N, \(inChannels), H, W] with H and W multiples of \(f)", actual: image.shape)
        }
        let h = try quantConv.layer(try self(image, ws, trace: trace), ws)
        trace?(quantConv.trace, h)
        return h
    }

    /// The decoder half shared by the VQ and KL first stages: decoder(post_quant_conv(z)).
    /// - z: [N, z, h, w] → image [N, 3, h·f, w·f] (not clamped)
    func decode(_ z: Tensor, after postQuantConv: TracedConv, workspace ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        let h = try postQuantConv.layer(z, ws)
        trace?(postQuantConv.trace, h)
        return try self(h, ws, trace: trace)
    }
}
