import LDMTensor

/// CompVis `openaimodel.AttentionBlock` with `QKVAttentionLegacy` (docs/ldm-spec.md §2.3): GroupNorm,
/// a 1x1 qkv projection whose rows are grouped per head [q_h; k_h; v_h], attention with q and k
/// each scaled by d^(−1/4), a 1x1 output projection, and the residual.
/// - x: [N, C, H, W] → [N, C, H, W]
struct AttentionBlock: UNetLayer {
    /// The block's submodules: `norm`, `qkv` and `proj_out` (Conv1d, stored [out, in, 1]). diffusers'
    /// `Attention` keeps q, k and v apart, so `qkv` is fused from them per head.
    struct Layout: UNetLayerLayout {
        let norm: GroupNormSpec
        let qkv: ConvolutionSpec
        let projection: ConvolutionSpec
        let heads: Int

        init(_ path: ModulePath, channels c: Int, config: UNetConfig) {
            heads = config.heads.heads(channels: c)
            norm = GroupNormSpec(path.child("norm", DiffusersAttention.norm), channels: c, groups: config.normGroups, eps: config.normEps)
            qkv = ConvolutionSpec(path.fusedQKV("qkv", heads: heads), input: c, output: 3 * c, kernel: 1, dimensions: 1)
            projection = ConvolutionSpec(path.child("proj_out", DiffusersAttention.out), input: c, output: c, kernel: 1, dimensions: 1)
        }

        var parameters: [ParameterSpec] { norm.parameters + qkv.parameters + projection.parameters }

        func build(_ weights: any WeightProvider) throws -> any UNetLayer { try AttentionBlock(weights, self) }
    }

    let norm: GroupNormLayer
    let qkv: Conv2dLayer
    let projection: Conv2dLayer
    let heads: Int

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        norm = try GroupNormLayer(weights, layout.norm)
        // Conv1d weights [out, in, 1] are used as 1x1 Conv2d weights [out, in, 1, 1].
        qkv = try Conv2dLayer(weights, layout.qkv)
        projection = try Conv2dLayer(weights, layout.projection)
        heads = layout.heads
    }

    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor {
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
