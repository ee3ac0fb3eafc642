import LDMTensor

/// CompVis `openaimodel.ResBlock` (use_scale_shift_norm = false, dropout 0; ldm-spec §2.2).
/// Index gaps mirror the reference nn.Sequential: in_layers = [GroupNorm, SiLU, Conv],
/// emb_layers = [SiLU, Linear], out_layers = [GroupNorm, SiLU, Dropout, Conv].
/// - x: [N, Cin, H, W], embSiLU: [N, E] (SiLU already applied) → [N, Cout, H', W'], where H' is
///   H/2 (`down`, avg-pool inside), 2H (`up`, nearest inside) or H.
struct ResBlock: Sendable {
    enum Resample: Sendable { case none, down, up }

    let inNorm: GroupNormLayer
    let inConv: Conv2dLayer
    let embProjection: LinearLayer
    let outNorm: GroupNormLayer
    let outConv: Conv2dLayer
    let skip: Conv2dLayer?
    let resample: Resample

    init(_ w: WeightScope, in cin: Int, out cout: Int, embedding: Int, resample: Resample = .none, config c: UNetConfig) throws {
        inNorm = try GroupNormLayer(w["in_layers.0"], channels: cin, groups: c.normGroups, eps: c.normEps)
        inConv = try Conv2dLayer(w["in_layers.2"], out: cout, in: cin, kernel: 3, padding: .symmetric(1))
        embProjection = try LinearLayer(w["emb_layers.1"], out: cout, in: embedding)
        outNorm = try GroupNormLayer(w["out_layers.0"], channels: cout, groups: c.normGroups, eps: c.normEps)
        outConv = try Conv2dLayer(w["out_layers.3"], out: cout, in: cout, kernel: 3, padding: .symmetric(1))
        skip = cin == cout ? nil : try Conv2dLayer(w["skip_connection"], out: cout, in: cin, kernel: 1)
        self.resample = resample
    }

    func callAsFunction(_ x: Tensor, _ embSiLU: Tensor, _ ws: Workspace) throws -> Tensor {
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
        try Elementwise.addPerChannel(h, try embProjection(embSiLU, ws))
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
