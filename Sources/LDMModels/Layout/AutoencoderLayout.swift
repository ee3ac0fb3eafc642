import LDMTensor

/// The structure of a VQ autoencoder config, walked once (CompVis model.py `Encoder`, `Decoder` and
/// taming `VectorQuantizer2`; diffusers `VQModel` names per docs/ldm-spec.md §6.3, VQ table): every module
/// with its CompVis and diffusers paths and its widths. The parameter list (and so the audit, the
/// diffusers mapping and config detection), the model (`VQStage`, `VQAutoencoder`) and its trace
/// names are all read off this walk; the blocks' own submodules are named in their `Layout`s.
/// The KL first stage (`kind: .kl`, CompVis `AutoencoderKL`, diffusers `AutoencoderKL`) is the same walk
/// with `double_z` (encoder conv_out and quant_conv give 2z channels: mean and log-variance) and no codebook.
public struct AutoencoderLayout: Sendable {
    /// VQ (taming `VQModel`): codebook, quantised at decode. KL: Gaussian posterior, no codebook.
    public enum Kind: Sendable { case vq, kl }

    /// Canonical prefixes (both = CompVis `first_stage_model.`), one per kind so a file says which it holds.
    public static let prefix = "vq."
    public static let klPrefix = "kl."
    public static func prefix(_ kind: Kind) -> String { kind == .vq ? prefix : klPrefix }

    /// One resolution level in run order: its ResnetBlocks, then the convolution that leaves it —
    /// the encoder's stride-2 `downsample.conv` (padding right/bottom), or the decoder's
    /// `upsample.conv` after a nearest 2× upsample — absent at the level that has none. Its output
    /// is traced under `trace` (`encoder.down_blocks.l`, `decoder.up_blocks.u`).
    struct Level: Sendable {
        let trace: String
        let blocks: [VQResnetBlock.Layout]
        let resample: ConvolutionSpec?
    }

    /// `Encoder`: conv_in, levels, mid, norm_out + SiLU, conv_out. `Decoder` (`upsamples`): conv_in,
    /// mid, levels from the lowest resolution (`up.(L−1)` first), norm_out + SiLU, conv_out.
    struct Stage: Sendable {
        let convIn: ConvolutionSpec
        let levels: [Level]
        let mid: (trace: String, block: VQMidBlock.Layout)
        let normOut: GroupNormSpec
        let convOut: ConvolutionSpec
        let upsamples: Bool

        /// In run order, which is also the order CompVis registers the modules in.
        var parameters: [ParameterSpec] {
            let levels = self.levels.flatMap { $0.blocks.flatMap(\.parameters) + ($0.resample?.parameters ?? []) }
            return convIn.parameters + (upsamples ? mid.block.parameters + levels : levels + mid.block.parameters)
                + normOut.parameters + convOut.parameters
        }
    }

    public let config: AutoencoderConfig
    public let kind: Kind
    let encoder: Stage
    /// VQ: z → embed_dim; KL: 2z → 2·embed_dim (mean, then log-variance).
    let quantConv: ConvolutionSpec
    /// `quantize` (traced under its name) and its codebook `quantize.embedding`; nil for KL.
    let quantize: (path: ModulePath, codebook: EmbeddingSpec)?
    let postQuantConv: ConvolutionSpec
    let decoder: Stage

    public init(_ c: AutoencoderConfig, kind: Kind = .vq) {
        config = c
        self.kind = kind
        // model.py Encoder `double_z`: conv_out gives 2·z_channels (mean, log-variance) for KL.
        let moments = kind == .kl ? 2 : 1
        let root = ModulePath.root(prefix: Self.prefix(kind))
        let levels = c.channelMult.count
        func norm(_ path: ModulePath, _ channels: Int) -> GroupNormSpec {
            GroupNormSpec(path.child("norm_out", "conv_norm_out"), channels: channels, groups: c.normGroups, eps: c.normEps)
        }
        func mid(_ stage: ModulePath, _ channels: Int) -> (trace: String, block: VQMidBlock.Layout) {
            let path = stage.child("mid", "mid_block")
            return (path.trace, VQMidBlock.Layout(path, channels: channels, config: c))
        }

        let enc = root.child("encoder")
        var blockIn = c.channels
        var down: [Level] = []
        for level in 0..<levels {
            let path = enc.child("down.\(level)", "down_blocks.\(level)"), blockOut = c.channels * c.channelMult[level]
            var blocks: [VQResnetBlock.Layout] = []
            for j in 0..<c.numResBlocks {
                blocks.append(VQResnetBlock.Layout(path.child("block.\(j)", "resnets.\(j)"), in: blockIn, out: blockOut, config: c))
                blockIn = blockOut
            }
            down.append(Level(trace: path.trace, blocks: blocks, resample: level == levels - 1 ? nil : ConvolutionSpec(
                path.child("downsample.conv", "downsamplers.0.conv"), input: blockIn, output: blockIn, kernel: 3, stride: 2,
                padding: .bottomRight)))
        }
        encoder = Stage(convIn: .same(enc.child("conv_in"), input: c.inChannels, output: c.channels, kernel: 3), levels: down,
                        mid: mid(enc, blockIn), normOut: norm(enc, blockIn),
                        convOut: .same(enc.child("conv_out"), input: blockIn, output: moments * c.zChannels, kernel: 3), upsamples: false)

        quantConv = .same(root.child("quant_conv"), input: moments * c.zChannels, output: moments * c.embedDim, kernel: 1)
        let quantizer = root.child("quantize")
        quantize = kind == .kl ? nil : (quantizer, EmbeddingSpec(quantizer.child("embedding"), count: c.codebookSize, dimension: c.embedDim))
        postQuantConv = .same(root.child("post_quant_conv"), input: c.embedDim, output: c.zChannels, kernel: 1)

        // Stored up.0 = highest resolution; run from up.(L−1) down to up.0 (diffusers up_blocks.0 first).
        let dec = root.child("decoder")
        let lowest = c.channels * c.channelMult[levels - 1]
        blockIn = lowest
        var up: [Level] = []
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let path = dec.child("up.\(level)", "up_blocks.\(levels - 1 - level)"), blockOut = c.channels * c.channelMult[level]
            var blocks: [VQResnetBlock.Layout] = []
            for j in 0...c.numResBlocks {
                blocks.append(VQResnetBlock.Layout(path.child("block.\(j)", "resnets.\(j)"), in: blockIn, out: blockOut, config: c))
                blockIn = blockOut
            }
            up.append(Level(trace: path.trace, blocks: blocks, resample: level == 0 ? nil
                : .same(path.child("upsample.conv", "upsamplers.0.conv"), input: blockIn, output: blockIn, kernel: 3)))
        }
        decoder = Stage(convIn: .same(dec.child("conv_in"), input: c.zChannels, output: lowest, kernel: 3), levels: up,
                        mid: mid(dec, lowest), normOut: norm(dec, blockIn),
                        convOut: .same(dec.child("conv_out"), input: blockIn, output: c.outChannels, kernel: 3), upsamples: true)
    }

    /// The canonical parameter list: encoder, quant_conv, codebook (VQ), post_quant_conv, decoder.
    public var parameters: [ParameterSpec] {
        encoder.parameters + quantConv.parameters + (quantize?.codebook.parameters ?? []) + postQuantConv.parameters + decoder.parameters
    }

    public static func parameters(_ c: AutoencoderConfig) -> [ParameterSpec] { AutoencoderLayout(c).parameters }

    /// The KL first stage's walk (`kl.…` names).
    public init(_ c: KLAutoencoderConfig) { self.init(c.stages, kind: .kl) }
    public static func parameters(_ c: KLAutoencoderConfig) -> [ParameterSpec] { AutoencoderLayout(c).parameters }
}
