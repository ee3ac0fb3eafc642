import LDMTensor

/// One half of the conv autoencoder (Scripts/train/conv_autoencoder.py), built from a
/// `ConvAutoencoderLayout.Stage`; every module reports its output to `trace` under its PyTorch path.
/// - `Encoder`: conv_in, per level its ResBlocks then the stride-2 `down.l` (padding 1 on every side,
///   unlike the VQ encoder's right/bottom pad), SiLU, conv_out.
///   x: [N, 3, H, W] (H, W multiples of f) → [N, z, H/f, W/f]
/// - `Decoder`: conv_in, from the last level down its ResBlocks then `up.{l−1}` (nearest 2× upsample,
///   3×3 conv), SiLU, conv_out; no tanh, no clamp.  z: [N, z, h, w] → [N, 3, h·f, w·f]
struct ConvStage: Sendable {
    let convIn: (path: String, layer: Conv2dLayer)
    let levels: [(blocks: [(path: String, block: ConvResBlock)], resample: (path: String, layer: Conv2dLayer)?)]
    let convOut: (path: String, layer: Conv2dLayer)
    /// Decoder: a nearest 2× upsample before each resampling convolution.
    let upsamples: Bool

    init(_ weights: any WeightProvider, _ stage: ConvAutoencoderLayout.Stage, upsamples: Bool) throws {
        convIn = (stage.convIn.path.trace, try Conv2dLayer(weights, stage.convIn))
        levels = try stage.levels.map { level in
            (try level.blocks.map { ($0.path.trace, try ConvResBlock(weights, $0)) },
             try level.resample.map { ($0.path.trace, try Conv2dLayer(weights, $0)) })
        }
        convOut = (stage.convOut.path.trace, try Conv2dLayer(weights, stage.convOut))
        self.upsamples = upsamples
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        var h = try convIn.layer(x, ws)
        trace?(convIn.path, h)
        for level in levels {
            for (path, block) in level.blocks {
                h = try block(h, ws)
                trace?(path, h)
            }
            if let (path, layer) = level.resample {
                h = try layer(upsamples ? try ResBlock.upsample(h, ws) : h, ws)
                trace?(path, h)
            }
        }
        let activated = try ws.tensor(h.shape)
        try Elementwise.silu(h, into: activated)
        h = try convOut.layer(activated, ws)
        trace?(convOut.path, h)
        return h
    }
}

/// conv_autoencoder.py `ResBlock`: x + conv2(SiLU(conv1(SiLU(x)))), no normalisation.
/// - x: [N, C, H, W] → [N, C, H, W]
struct ConvResBlock: Sendable {
    let conv1: Conv2dLayer, conv2: Conv2dLayer

    init(_ weights: any WeightProvider, _ block: ConvAutoencoderLayout.ResBlock) throws {
        conv1 = try Conv2dLayer(weights, block.conv1)
        conv2 = try Conv2dLayer(weights, block.conv2)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let activated = try ws.tensor(x.shape)
        try Elementwise.silu(x, into: activated)
        let h = try conv1(activated, ws)
        try Elementwise.silu(h, into: h)
        let out = try conv2(h, ws)
        try Elementwise.add(x, out, into: out)
        return out
    }
}
