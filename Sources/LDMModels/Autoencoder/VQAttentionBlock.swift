import LDMTensor

/// model.py `AttnBlock` (vanilla, one head over all C channels): w = softmax(q·k · C^(−1/2)).
/// - x: [N, C, H, W] → [N, C, H, W]
struct VQAttentionBlock: Sendable {
    /// `norm`, 1x1 convolutions `q`, `k`, `v`, `proj_out` (diffusers `Attention`: Linear [C, C]).
    struct Layout: Sendable {
        let norm: GroupNormSpec, q: ConvolutionSpec, k: ConvolutionSpec, v: ConvolutionSpec, projection: ConvolutionSpec

        init(_ path: ModulePath, channels c: Int, config: AutoencoderConfig) {
            func conv(_ name: String, _ diffusers: [String]) -> ConvolutionSpec {
                .same(path.child(name, diffusers), input: c, output: c, kernel: 1)
            }
            norm = GroupNormSpec(path.child("norm", DiffusersAttention.norm), channels: c, groups: config.normGroups, eps: config.normEps)
            q = conv("q", DiffusersAttention.q)
            k = conv("k", DiffusersAttention.k)
            v = conv("v", DiffusersAttention.v)
            projection = conv("proj_out", DiffusersAttention.out)
        }

        var parameters: [ParameterSpec] { [norm.parameters, q.parameters, k.parameters, v.parameters, projection.parameters].flatMap { $0 } }
    }

    let norm: GroupNormLayer, q: Conv2dLayer, k: Conv2dLayer, v: Conv2dLayer, projection: Conv2dLayer

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        norm = try GroupNormLayer(weights, layout.norm)
        q = try Conv2dLayer(weights, layout.q)
        k = try Conv2dLayer(weights, layout.k)
        v = try Conv2dLayer(weights, layout.v)
        projection = try Conv2dLayer(weights, layout.projection)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let normed = try norm(x, silu: false, ws)
        let flat = [n, c, h * w]
        let (qt, kt, vt) = (try q(normed, ws).reshaped(flat), try k(normed, ws).reshaped(flat), try v(normed, ws).reshaped(flat))
        let attended = try ws.tensor(flat)
        try Attention.forward(q: qt, k: kt, v: vt, heads: 1, scaling: .scores, into: attended, workspace: ws)
        let out = try projection(try attended.reshaped([n, c, h, w]), ws)
        try Elementwise.add(x, out, into: out)
        return out
    }
}
