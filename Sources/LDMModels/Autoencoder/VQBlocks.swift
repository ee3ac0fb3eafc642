import LDMTensor

/// model.py `ResnetBlock` with temb_channels = 0 (ldm-spec §2.6): norm1+SiLU, conv1, norm2+SiLU,
/// conv2, plus the input (through the 1x1 `nin_shortcut` when the width changes).
/// - x: [N, Cin, H, W] → [N, Cout, H, W]
struct VQResnetBlock: Sendable {
    let norm1: GroupNormLayer, conv1: Conv2dLayer, norm2: GroupNormLayer, conv2: Conv2dLayer
    let shortcut: Conv2dLayer?

    init(_ w: WeightScope, in cin: Int, out cout: Int, config c: AutoencoderConfig) throws {
        norm1 = try GroupNormLayer(w["norm1"], channels: cin, groups: c.normGroups, eps: c.normEps)
        conv1 = try Conv2dLayer(w["conv1"], out: cout, in: cin, kernel: 3, padding: .symmetric(1))
        norm2 = try GroupNormLayer(w["norm2"], channels: cout, groups: c.normGroups, eps: c.normEps)
        conv2 = try Conv2dLayer(w["conv2"], out: cout, in: cout, kernel: 3, padding: .symmetric(1))
        shortcut = cin == cout ? nil : try Conv2dLayer(w["nin_shortcut"], out: cout, in: cin, kernel: 1)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let h = try conv2(try norm2(try conv1(try norm1(x, silu: true, ws), ws), silu: true, ws), ws)
        try Elementwise.add(try shortcut?(x, ws) ?? x, h, into: h)
        return h
    }
}

/// model.py `AttnBlock` (vanilla, one head over all C channels): w = softmax(q·k · C^(−1/2)).
/// - x: [N, C, H, W] → [N, C, H, W]
struct VQAttentionBlock: Sendable {
    let norm: GroupNormLayer, q: Conv2dLayer, k: Conv2dLayer, v: Conv2dLayer, projection: Conv2dLayer

    init(_ w: WeightScope, channels c: Int, config: AutoencoderConfig) throws {
        norm = try GroupNormLayer(w["norm"], channels: c, groups: config.normGroups, eps: config.normEps)
        q = try Conv2dLayer(w["q"], out: c, in: c, kernel: 1)
        k = try Conv2dLayer(w["k"], out: c, in: c, kernel: 1)
        v = try Conv2dLayer(w["v"], out: c, in: c, kernel: 1)
        projection = try Conv2dLayer(w["proj_out"], out: c, in: c, kernel: 1)
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

/// The encoder's and decoder's mid block: ResnetBlock, AttnBlock (absent in vq-f4-noattn), ResnetBlock.
struct VQMidBlock: Sendable {
    let block1: VQResnetBlock, attention: VQAttentionBlock?, block2: VQResnetBlock

    init(_ w: WeightScope, channels c: Int, config: AutoencoderConfig) throws {
        block1 = try VQResnetBlock(w["block_1"], in: c, out: c, config: config)
        attention = config.midAttention ? try VQAttentionBlock(w["attn_1"], channels: c, config: config) : nil
        block2 = try VQResnetBlock(w["block_2"], in: c, out: c, config: config)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        var h = try block1(x, ws)
        if let attention { h = try attention(h, ws) }
        return try block2(h, ws)
    }
}
