import LDMTensor

/// CompVis `openaimodel.AttentionBlock` with `QKVAttentionLegacy` (ldm-spec §2.3): GroupNorm,
/// a 1x1 qkv projection whose rows are grouped per head [q_h; k_h; v_h], attention with q and k
/// each scaled by d^(−1/4), a 1x1 output projection, and the residual.
/// - x: [N, C, H, W] → [N, C, H, W]
struct AttentionBlock: Sendable {
    let norm: GroupNormLayer
    let qkv: Conv2dLayer
    let projection: Conv2dLayer
    let heads: Int

    init(_ w: WeightScope, channels c: Int, config: UNetConfig) throws {
        norm = try GroupNormLayer(w["norm"], channels: c, groups: config.normGroups, eps: config.normEps)
        // Conv1d weights [out, in, 1] are used as 1x1 Conv2d weights [out, in, 1, 1].
        qkv = try Conv2dLayer(w["qkv"], out: 3 * c, in: c, kernel: 1)
        projection = try Conv2dLayer(w["proj_out"], out: c, in: c, kernel: 1)
        heads = config.heads.heads(channels: c)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let projected = try qkv(try norm(x, silu: false, ws), ws)
        let attended = try ws.tensor([n, c, h * w])
        try Attention.forward(qkv: try projected.reshaped([n, 3 * c, h * w]), heads: heads, scaling: .splitQK,
                              into: attended, workspace: ws)
        let out = try projection(try attended.reshaped([n, c, h, w]), ws)
        try Elementwise.add(x, out, into: out)
        return out
    }
}

/// Strided 3x3 conv (`Downsample`, key `op`; ldm-spec §2.4). - x: [N, C, H, W] → [N, C, H/2, W/2]
struct Downsample: Sendable {
    let conv: Conv2dLayer
    init(_ w: WeightScope, channels c: Int) throws {
        conv = try Conv2dLayer(w["op"], out: c, in: c, kernel: 3, stride: 2, padding: .symmetric(1))
    }
    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor { try conv(x, ws) }
}

/// Nearest ×2 then 3x3 conv (`Upsample`, key `conv`). - x: [N, C, H, W] → [N, C, 2H, 2W]
struct Upsample: Sendable {
    let conv: Conv2dLayer
    init(_ w: WeightScope, channels c: Int) throws {
        conv = try Conv2dLayer(w["conv"], out: c, in: c, kernel: 3, padding: .symmetric(1))
    }
    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor { try conv(try ResBlock.upsample(x, ws), ws) }
}
