import LDMTensor

/// CompVis `attention.BasicTransformerBlock` / diffusers `BasicTransformerBlock` (SD 1.x and 2.x: no
/// dropout, no checkpointing), on token-major rows:
/// h += attn1(norm1(h)); h += attn2(norm2(h), context); h += ff(norm3(h)), where attn1 is
/// self-attention, attn2 attends to the text context, and ff = net.2(GEGLU(net.0.proj(·))).
/// With `onlyCross` (CompVis `disable_self_attn`, diffusers `only_cross_attention`: the x4 upscaler's first
/// three levels) attn1 attends to the context too, its k and v D → C: h += attn1(norm1(h), context).
/// - hidden: [N·T, C] (updated in place), context: [N, L, D] → [N·T, C]
struct TransformerBlock: Sendable {
    /// Its submodules, named alike in CompVis and diffusers: `norm1..3` (LayerNorm, eps 1e-5),
    /// `attn1`/`attn2` with `to_q`, `to_k`, `to_v` (no bias) and `to_out.0`, `ff.net.0.proj`
    /// (C → 8C, GEGLU halves) and `ff.net.2` (4C → C).
    struct Layout: Sendable {
        let norms: [LayerNormSpec]
        /// attn1's q, k, v (C → C each; k, v D → C when `onlyCross`), fused into one GEMM at build time
        /// (q apart when `onlyCross`).
        let selfQKV: [LinearSpec]
        let onlyCross: Bool
        let selfOut: LinearSpec
        let crossQ: LinearSpec
        /// attn2's k and v (D → C each), fused.
        let crossKV: [LinearSpec]
        let crossOut: LinearSpec
        let ffIn: LinearSpec
        let ffOut: LinearSpec
        let heads: Int

        init(_ path: ModulePath, channels c: Int, heads: Int, contextDim: Int, onlyCross: Bool = false) {
            self.heads = heads
            self.onlyCross = onlyCross
            norms = (1...3).map { LayerNormSpec(path.child("norm\($0)"), channels: c) }
            let attn1 = path.child("attn1"), attn2 = path.child("attn2")
            let selfKVInput = onlyCross ? contextDim : c
            selfQKV = [LinearSpec(attn1.child("to_q"), input: c, output: c, bias: false)]
                + ["to_k", "to_v"].map { LinearSpec(attn1.child($0), input: selfKVInput, output: c, bias: false) }
            selfOut = LinearSpec(attn1.child("to_out.0"), input: c, output: c)
            crossQ = LinearSpec(attn2.child("to_q"), input: c, output: c, bias: false)
            crossKV = ["to_k", "to_v"].map { LinearSpec(attn2.child($0), input: contextDim, output: c, bias: false) }
            crossOut = LinearSpec(attn2.child("to_out.0"), input: c, output: c)
            ffIn = LinearSpec(path.child("ff.net.0.proj"), input: c, output: 8 * c)
            ffOut = LinearSpec(path.child("ff.net.2"), input: 4 * c, output: c)
        }

        /// Registration order: attn1, ff, attn2, norm1, norm2, norm3 (as CompVis' __init__); diffusers
        /// registers norm1, attn1, norm2, attn2, norm3, ff. Only the set matters to the audit.
        var parameters: [ParameterSpec] {
            let attn1 = selfQKV.flatMap(\.parameters) + selfOut.parameters
            let attn2 = crossQ.parameters + crossKV.flatMap(\.parameters) + crossOut.parameters
            return attn1 + ffIn.parameters + ffOut.parameters + attn2 + norms.flatMap(\.parameters)
        }
    }

    /// attn1's projections: q, k, v fused (self-attention), or q apart and k, v fused over the context.
    enum SelfProjection: Sendable {
        case fused(LinearLayer)
        case contextOnly(q: LinearLayer, kv: LinearLayer)
    }

    let norms: [LayerNormLayer]
    let selfProjection: SelfProjection
    let selfOut: LinearLayer
    let crossQ: LinearLayer
    let crossKV: LinearLayer
    let crossOut: LinearLayer
    let ffIn: LinearLayer
    let ffOut: LinearLayer
    let heads: Int

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        norms = try layout.norms.map { try LayerNormLayer(weights, $0) }
        selfProjection = layout.onlyCross
            ? .contextOnly(q: try LinearLayer(weights, layout.selfQKV[0]), kv: try LinearLayer(fusing: Array(layout.selfQKV[1...]), weights))
            : .fused(try LinearLayer(fusing: layout.selfQKV, weights))
        selfOut = try LinearLayer(weights, layout.selfOut)
        crossQ = try LinearLayer(weights, layout.crossQ)
        crossKV = try LinearLayer(fusing: layout.crossKV, weights)
        crossOut = try LinearLayer(weights, layout.crossOut)
        ffIn = try LinearLayer(weights, layout.ffIn)
        ffOut = try LinearLayer(weights, layout.ffOut)
        heads = layout.heads
    }

    /// - hidden: [N·T, C], tokens T, context: [N, L, D] → hidden (same storage, updated)
    /// - hidden may also be one image's rows [T, C] against a context of N > 1 rows (classifier-free guidance, whose
    ///   branches share the image): attn1 then runs once (self-attention reads no context) and the rows are repeated
    ///   N times before the first product that reads the context; the result is [N·T, C] in new storage, bit for
    ///   bit what the repeated input gives.
    func callAsFunction(_ hidden: Tensor, tokens t: Int, context: Tensor, _ ws: Workspace) throws -> Tensor {
        let c = hidden.shape[1], rows = context.shape[0]
        var hidden = hidden
        switch selfProjection {
        case .fused(let selfQKV):
            // attn1: self-attention over the T positions, q/k/v from one fused projection.
            let n = hidden.shape[0] / t
            let attended = try ws.tensor([n, t, c])
            let qkv = try selfQKV(try norms[0](hidden, ws), images: n, ws).reshaped([n, t, 3 * c])
            try Attention.forward(query: .init(qkv, start: 0, count: c), key: .init(qkv, start: c, count: c),
                                  value: .init(qkv, start: 2 * c, count: c), heads: heads, into: attended, workspace: ws)
            try Elementwise.add(hidden, try selfOut(try attended.reshaped([n * t, c]), images: n, ws), into: hidden)
            hidden = try Self.shared(hidden, rows: rows, tokens: t, ws)
        case .contextOnly(let q, let kv):
            // attn1 with `onlyCross`: attends to the context as attn2 does, with its own weights.
            hidden = try Self.shared(hidden, rows: rows, tokens: t, ws)
            try attend(hidden, norm: norms[0], q: q, kv: kv, out: selfOut, tokens: t, context: context, ws)
        }
        // attn2: queries from the image, keys and values from the text context.
        try attend(hidden, norm: norms[1], q: crossQ, kv: crossKV, out: crossOut, tokens: t, context: context, ws)
        // ff: GEGLU feed-forward.
        let projected = try ffIn(try norms[2](hidden, ws), images: rows, ws)
        let gated = try ws.tensor([rows * t, 4 * c])
        try GELU.geglu(projected, into: gated)
        try Elementwise.add(hidden, try ffOut(gated, images: rows, ws), into: hidden)
        return hidden
    }

    /// hidden as `rows` images: itself when it has them, one image's [T, C] repeated (a shared guidance input).
    static func shared(_ hidden: Tensor, rows: Int, tokens t: Int, _ ws: Workspace) throws -> Tensor {
        let n = hidden.shape[0] / t
        if n == rows { return hidden }
        guard n == 1 else {
            throw TensorError.shapeMismatch(operation: "TransformerBlock", argument: "context", expected: "[\(n), L, D] (one per image)",
                                            actual: [rows])
        }
        let repeated = try ws.tensor([rows * t, hidden.shape[1]])
        try Concat.repeatBatch(try hidden.reshaped([1, t, hidden.shape[1]]), into: try repeated.reshaped([rows, t, hidden.shape[1]]))
        return repeated
    }

    /// hidden += out(attention(q(norm(hidden)), k, v from the context)).
    /// - hidden: [N·T, C] (updated), context: [N, L, D]
    private func attend(_ hidden: Tensor, norm: LayerNormLayer, q: LinearLayer, kv: LinearLayer, out: LinearLayer, tokens t: Int,
                        context: Tensor, _ ws: Workspace) throws {
        let c = hidden.shape[1], n = hidden.shape[0] / t
        let attended = try ws.tensor([n, t, c])
        let (l, d) = (context.shape[1], context.shape[2])
        let query = try q(try norm(hidden, ws), images: n, ws).reshaped([n, t, c])
        let keyValue = try kv(try context.reshaped([n * l, d]), images: n, ws).reshaped([n, l, 2 * c])
        try Attention.forward(query: .init(query), key: .init(keyValue, start: 0, count: c), value: .init(keyValue, start: c, count: c),
                              heads: heads, into: attended, workspace: ws)
        try Elementwise.add(hidden, try out(try attended.reshaped([n * t, c]), images: n, ws), into: hidden)
    }
}
