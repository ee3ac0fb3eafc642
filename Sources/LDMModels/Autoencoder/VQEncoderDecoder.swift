import LDMTensor

/// model.py `Encoder` (double_z = false; ldm-spec §2.6). Downsampling pads (right 1, bottom 1) and
/// convolves 3x3 with stride 2 and no padding.
/// - x: [N, Cin, H, W] (H, W multiples of f) → [N, z, H/f, W/f]
struct VQEncoder: Sendable {
    let convIn: Conv2dLayer
    let levels: [(blocks: [VQResnetBlock], down: Conv2dLayer?)]
    let mid: VQMidBlock
    let normOut: GroupNormLayer
    let convOut: Conv2dLayer

    init(_ w: WeightScope, config c: AutoencoderConfig) throws {
        convIn = try Conv2dLayer(w["conv_in"], out: c.channels, in: c.inChannels, kernel: 3, padding: .symmetric(1))
        var blockIn = c.channels
        var levels: [(blocks: [VQResnetBlock], down: Conv2dLayer?)] = []
        for level in 0..<c.channelMult.count {
            let blockOut = c.channels * c.channelMult[level]
            var blocks: [VQResnetBlock] = []
            for j in 0..<c.numResBlocks {
                blocks.append(try VQResnetBlock(w["down.\(level).block.\(j)"], in: blockIn, out: blockOut, config: c))
                blockIn = blockOut
            }
            let down = level == c.channelMult.count - 1 ? nil
                : try Conv2dLayer(w["down.\(level).downsample.conv"], out: blockIn, in: blockIn, kernel: 3, stride: 2, padding: .bottomRight)
            levels.append((blocks, down))
        }
        self.levels = levels
        mid = try VQMidBlock(w["mid"], channels: blockIn, config: c)
        normOut = try GroupNormLayer(w["norm_out"], channels: blockIn, groups: c.normGroups, eps: c.normEps)
        convOut = try Conv2dLayer(w["conv_out"], out: c.zChannels, in: blockIn, kernel: 3, padding: .symmetric(1))
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        var h = try convIn(x, ws)
        trace?("encoder.conv_in", h)
        for (level, stage) in levels.enumerated() {
            for block in stage.blocks { h = try block(h, ws) }
            if let down = stage.down { h = try down(h, ws) }
            trace?("encoder.down_blocks.\(level)", h)
        }
        h = try mid(h, ws)
        trace?("encoder.mid_block", h)
        h = try convOut(try normOut(h, silu: true, ws), ws)
        trace?("encoder.conv_out", h)
        return h
    }
}

/// model.py `Decoder` (no tanh). Levels are stored `up.0` = highest resolution and run from the
/// lowest: `up.(L−1)` first. - z: [N, z, h, w] → [N, Cout, h·f, w·f]
struct VQDecoder: Sendable {
    let convIn: Conv2dLayer
    let mid: VQMidBlock
    let levels: [(level: Int, blocks: [VQResnetBlock], up: Conv2dLayer?)]
    let normOut: GroupNormLayer
    let convOut: Conv2dLayer

    init(_ w: WeightScope, config c: AutoencoderConfig) throws {
        var blockIn = c.channels * c.channelMult[c.channelMult.count - 1]
        convIn = try Conv2dLayer(w["conv_in"], out: blockIn, in: c.zChannels, kernel: 3, padding: .symmetric(1))
        mid = try VQMidBlock(w["mid"], channels: blockIn, config: c)
        var levels: [(level: Int, blocks: [VQResnetBlock], up: Conv2dLayer?)] = []
        for level in stride(from: c.channelMult.count - 1, through: 0, by: -1) {
            let blockOut = c.channels * c.channelMult[level]
            var blocks: [VQResnetBlock] = []
            for j in 0...c.numResBlocks {
                blocks.append(try VQResnetBlock(w["up.\(level).block.\(j)"], in: blockIn, out: blockOut, config: c))
                blockIn = blockOut
            }
            let up = level == 0 ? nil
                : try Conv2dLayer(w["up.\(level).upsample.conv"], out: blockIn, in: blockIn, kernel: 3, padding: .symmetric(1))
            levels.append((level, blocks, up))
        }
        self.levels = levels
        normOut = try GroupNormLayer(w["norm_out"], channels: blockIn, groups: c.normGroups, eps: c.normEps)
        convOut = try Conv2dLayer(w["conv_out"], out: c.outChannels, in: blockIn, kernel: 3, padding: .symmetric(1))
    }

    func callAsFunction(_ z: Tensor, _ ws: Workspace, trace: ModelTrace?) throws -> Tensor {
        var h = try convIn(z, ws)
        trace?("decoder.conv_in", h)
        h = try mid(h, ws)
        trace?("decoder.mid_block", h)
        for (u, stage) in levels.enumerated() {
            for block in stage.blocks { h = try block(h, ws) }
            if let up = stage.up { h = try up(try ResBlock.upsample(h, ws), ws) }
            trace?("decoder.up_blocks.\(u)", h)
        }
        h = try convOut(try normOut(h, silu: true, ws), ws)
        trace?("decoder.conv_out", h)
        return h
    }
}
