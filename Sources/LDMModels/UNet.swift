import LDMTensor

/// The CompVis `openaimodel.UNetModel` (ldm-spec §1.3, §2.5), both released configurations with one
/// code path: conv or ResBlock up/down sampling, attention at the configured levels and the mid
/// block, the skip stack pushed after every input block and concatenated as `[h, skip]`.
/// - x: [N, Cin, H, W] (H, W multiples of 2^(levels−1)), timesteps: N values → ε: [N, Cout, H, W]
public final class UNet: Sendable {
    public let config: UNetConfig

    enum InputStage: Sendable {
        case res(ResBlock, AttentionBlock?, level: Int, index: Int)
        case downConv(Downsample, level: Int)
        case downRes(ResBlock, level: Int)
    }

    struct OutputStage: Sendable {
        enum Upsampler: Sendable { case none, conv(Upsample), res(ResBlock) }
        let res: ResBlock
        let attention: AttentionBlock?
        let upsampler: Upsampler
        let up: Int, index: Int
    }

    let timeEmbed0: LinearLayer
    let timeEmbed2: LinearLayer
    let convIn: Conv2dLayer
    let inputStages: [InputStage]
    let middle: (ResBlock, AttentionBlock, ResBlock)
    let outputStages: [OutputStage]
    let outNorm: GroupNormLayer
    let outConv: Conv2dLayer

    /// Builds the network from canonical weights (`unet.…`), checking every tensor's shape.
    public init(_ weights: any WeightProvider, config c: UNetConfig) throws {
        config = c
        let w = WeightScope(weights, prefix: UNetLayout.prefix)
        let emb = c.timeEmbedChannels
        timeEmbed0 = try LinearLayer(w["time_embed.0"], out: emb, in: c.modelChannels)
        timeEmbed2 = try LinearLayer(w["time_embed.2"], out: emb, in: emb)
        convIn = try Conv2dLayer(w["input_blocks.0.0"], out: c.modelChannels, in: c.inChannels, kernel: 3, padding: .symmetric(1))
        var stages: [InputStage] = []
        var ch = c.modelChannels
        var skips = [ch]
        var index = 1
        let levels = c.channelMult.count
        for level in 0..<levels {
            for j in 0..<c.numResBlocks {
                let out = c.width(level: level)
                let block = w["input_blocks.\(index)"]
                let res = try ResBlock(block["0"], in: ch, out: out, embedding: emb, config: c)
                ch = out
                let attention = c.attentionLevels.contains(level) ? try AttentionBlock(block["1"], channels: ch, config: c) : nil
                stages.append(.res(res, attention, level: level, index: j))
                skips.append(ch)
                index += 1
            }
            if level != levels - 1 {
                let block = w["input_blocks.\(index).0"]
                stages.append(c.resblockUpdown
                    ? .downRes(try ResBlock(block, in: ch, out: ch, embedding: emb, resample: .down, config: c), level: level)
                    : .downConv(try Downsample(block, channels: ch), level: level))
                skips.append(ch)
                index += 1
            }
        }
        inputStages = stages
        middle = (try ResBlock(w["middle_block.0"], in: ch, out: ch, embedding: emb, config: c),
                  try AttentionBlock(w["middle_block.1"], channels: ch, config: c),
                  try ResBlock(w["middle_block.2"], in: ch, out: ch, embedding: emb, config: c))
        var outputs: [OutputStage] = []
        index = 0
        for level in stride(from: levels - 1, through: 0, by: -1) {
            for j in 0...c.numResBlocks {
                let block = w["output_blocks.\(index)"]
                let skip = skips.removeLast()
                let out = c.width(level: level)
                let res = try ResBlock(block["0"], in: ch + skip, out: out, embedding: emb, config: c)
                ch = out
                var sub = 1
                var attention: AttentionBlock?
                if c.attentionLevels.contains(level) {
                    attention = try AttentionBlock(block["1"], channels: ch, config: c)
                    sub = 2
                }
                var upsampler = OutputStage.Upsampler.none
                if level != 0, j == c.numResBlocks {
                    upsampler = c.resblockUpdown
                        ? .res(try ResBlock(block["\(sub)"], in: ch, out: ch, embedding: emb, resample: .up, config: c))
                        : .conv(try Upsample(block["\(sub)"], channels: ch))
                }
                outputs.append(OutputStage(res: res, attention: attention, upsampler: upsampler, up: levels - 1 - level, index: j))
                index += 1
            }
        }
        outputStages = outputs
        outNorm = try GroupNormLayer(w["out.0"], channels: ch, groups: c.normGroups, eps: c.normEps)
        outConv = try Conv2dLayer(w["out.2"], out: c.outChannels, in: ch, kernel: 3, padding: .symmetric(1))
    }

    /// One denoising call: ε for x at the given (integer-valued) DDPM timesteps.
    public func callAsFunction(_ x: Tensor, timesteps: [Float], workspace ws: Workspace,
                               trace: ModelTrace? = nil) throws -> Tensor {
        let c = config
        let factor = c.downsamplingFactor
        guard x.rank == 4, x.shape[1] == c.inChannels, x.shape[2] % factor == 0, x.shape[3] % factor == 0,
              timesteps.count == x.shape[0] else {
            throw TensorError.shapeMismatch(operation: "UNet", argument: "x", expected:
                "[\(timesteps.count), \(c.inChannels), H, W] with H and W multiples of \(factor)", actual: x.shape)
        }
        // emb = time_embed(timestep_embedding(t)); every ResBlock applies SiLU first (emb_layers.0).
        let sinusoid = try ws.tensor([x.shape[0], c.modelChannels])
        try TimestepEmbedding.forward(timesteps, dim: c.modelChannels, into: sinusoid)
        let hidden = try timeEmbed0(sinusoid, ws)
        try Elementwise.silu(hidden, into: hidden)
        let emb = try timeEmbed2(hidden, ws)
        trace?("time_embedding", emb)
        let embSiLU = try ws.tensor(emb.shape)
        try Elementwise.silu(emb, into: embSiLU)

        var h = try convIn(x, ws)
        trace?("conv_in", h)
        var skips = [h]
        for (i, stage) in inputStages.enumerated() {
            switch stage {
            case .res(let res, let attention, let level, let j):
                h = try res(h, embSiLU, ws)
                trace?("down_blocks.\(level).resnets.\(j)", h)
                if let attention {
                    h = try attention(h, ws)
                    trace?("down_blocks.\(level).attentions.\(j)", h)
                }
            case .downConv(let down, let level):
                h = try down(h, ws)
                trace?("down_blocks.\(level).downsamplers.0", h)
            case .downRes(let res, let level):
                h = try res(h, embSiLU, ws)
                trace?("down_blocks.\(level).downsamplers.0", h)
            }
            skips.append(h)
            let level = Self.level(of: stage)
            if i + 1 == inputStages.count || Self.level(of: inputStages[i + 1]) != level { trace?("down_blocks.\(level)", h) }
        }
        h = try middle.0(h, embSiLU, ws)
        h = try middle.1(h, ws)
        h = try middle.2(h, embSiLU, ws)
        trace?("mid_block", h)
        for stage in outputStages {
            let skip = skips.removeLast()
            let joined = try ws.tensor([h.shape[0], h.shape[1] + skip.shape[1], h.shape[2], h.shape[3]])
            try Concat.channels([h, skip], into: joined)
            h = try stage.res(joined, embSiLU, ws)
            trace?("up_blocks.\(stage.up).resnets.\(stage.index)", h)
            if let attention = stage.attention {
                h = try attention(h, ws)
                trace?("up_blocks.\(stage.up).attentions.\(stage.index)", h)
            }
            switch stage.upsampler {
            case .none: break
            case .conv(let up): h = try up(h, ws)
            case .res(let res): h = try res(h, embSiLU, ws)
            }
            if stage.index == config.numResBlocks { trace?("up_blocks.\(stage.up)", h) }
        }
        h = try outConv(try outNorm(h, silu: true, ws), ws)
        trace?("conv_out", h)
        return h
    }

    private static func level(of stage: InputStage) -> Int {
        switch stage {
        case .res(_, _, let level, _), .downConv(_, let level), .downRes(_, let level): level
        }
    }
}
