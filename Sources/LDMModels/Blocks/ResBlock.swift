import LDMTensor

/// CompVis `openaimodel.ResBlock` (use_scale_shift_norm = false, dropout 0; docs/ldm-spec.md §2.2).
/// - x: [N, Cin, H, W], embSiLU: [N, E] (SiLU already applied) → [N, Cout, H', W'], where H' is
///   H/2 (`down`, avg-pool inside), 2H (`up`, nearest inside) or H.
struct ResBlock: UNetLayer {
    enum Resample: Sendable { case none, down, up }

    /// The block's submodules. Index gaps mirror the reference nn.Sequential: in_layers = [GroupNorm,
    /// SiLU, Conv], emb_layers = [SiLU, Linear], out_layers = [GroupNorm, SiLU, Dropout, Conv]; the
    /// diffusers names are those of `ResnetBlock2D` (docs/ldm-spec.md §6.3).
    struct Layout: UNetLayerLayout {
        let inNorm: GroupNormSpec
        let inConv: ConvolutionSpec
        let embProjection: LinearSpec
        let outNorm: GroupNormSpec
        let outConv: ConvolutionSpec
        /// 1x1 `skip_connection` when the width changes.
        let skip: ConvolutionSpec?
        let resample: Resample

        init(_ path: ModulePath, in cin: Int, out cout: Int, resample: Resample = .none, config c: UNetConfig) {
            inNorm = GroupNormSpec(path.child("in_layers.0", "norm1"), channels: cin, groups: c.normGroups, eps: c.normEps)
            inConv = .same(path.child("in_layers.2", "conv1"), input: cin, output: cout, kernel: 3)
            embProjection = LinearSpec(path.child("emb_layers.1", "time_emb_proj"), input: c.timeEmbedChannels, output: cout)
            outNorm = GroupNormSpec(path.child("out_layers.0", "norm2"), channels: cout, groups: c.normGroups, eps: c.normEps)
            outConv = .same(path.child("out_layers.3", "conv2"), input: cout, output: cout, kernel: 3)
            skip = cin == cout ? nil : .same(path.child("skip_connection", "conv_shortcut"), input: cin, output: cout, kernel: 1)
            self.resample = resample
        }

        var parameters: [ParameterSpec] {
            inNorm.parameters + inConv.parameters + embProjection.parameters + outNorm.parameters + outConv.parameters
                + (skip?.parameters ?? [])
        }

        func build(_ weights: any WeightProvider) throws -> any UNetLayer { try ResBlock(weights, self) }
    }

    let inNorm: GroupNormLayer
    let inConv: Conv2dLayer
    let embProjection: LinearLayer
    let outNorm: GroupNormLayer
    let outConv: Conv2dLayer
    let skip: Conv2dLayer?
    let resample: Resample

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        inNorm = try GroupNormLayer(weights, layout.inNorm)
        inConv = try Conv2dLayer(weights, layout.inConv)
        embProjection = try LinearLayer(weights, layout.embProjection)
        outNorm = try GroupNormLayer(weights, layout.outNorm)
        outConv = try Conv2dLayer(weights, layout.outConv)
        skip = try layout.skip.map { try Conv2dLayer(weights, $0) }
        resample = layout.resample
    }

    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor {
        var h = try inNorm(x, silu: true, ws)
        var input = x
        // h_upd / x_upd (openaimodel.py ResBlock.forward): resample after GN+SiLU, before the conv.
        switch resample {
        case .none: break
        case .down:
            h = try Self.pool(h, ws)
            input = try Self.pool(x, ws)
        case .up:
            h = try Self.upsample(h, ws)
            input = try Self.upsample(x, ws)
        }
        h = try inConv(h, ws)
        try Elementwise.addPerChannel(h, try embProjection(inputs.embSiLU, images: inputs.embSiLU.shape[0], ws))
        h = try outConv(try outNorm(h, silu: true, ws), ws)
        let shortcut = try skip?(input, ws) ?? input
        try Elementwise.add(shortcut, h, into: h)
        return h
    }

    static func pool(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let y = try ws.tensor([x.shape[0], x.shape[1], x.shape[2] / 2, x.shape[3] / 2])
        try Resize.avgPool2x2(x, into: y)
        return y
    }

    static func upsample(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let y = try ws.tensor([x.shape[0], x.shape[1], x.shape[2] * 2, x.shape[3] * 2])
        try Resize.upsampleNearest2x(x, into: y)
        return y
    }
}
