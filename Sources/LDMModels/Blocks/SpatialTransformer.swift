import LDMTensor

/// CompVis `attention.SpatialTransformer` / diffusers `Transformer2DModel` (continuous input), the
/// cross-attention block of Stable Diffusion's U-Net: GroupNorm (the config's groups, 32 in SD; eps 1e-6), `proj_in`
/// to token rows, `depth` `TransformerBlock`s attending to the text context, `proj_out` back to
/// the feature map, and the residual. proj_in/proj_out are 1x1 convolutions (SD 1.x) or nn.Linear
/// (SD 2.x, `use_linear_in_transformer`): the same per-position product, stored [C, C, 1, 1] or [C, C],
/// so both run as one GEMM on token rows; normalising before or after the reshape is the same too.
/// - x: [N, C, H, W], context: [N, L, D] → [N, C, H, W]; or x: [1, C, H, W] shared by a context of N rows → [N, C, H, W]
struct SpatialTransformer: UNetLayer {
    struct Layout: UNetLayerLayout {
        let norm: GroupNormSpec
        let projIn: LinearSpec
        let blocks: [TransformerBlock.Layout]
        let projOut: LinearSpec
        /// The blocks' diffusers names, under which their outputs ([N, T, C]) are traced.
        let blockTraces: [String]

        /// heads = C / d_head: CompVis `num_heads` (d_head = C / heads) or `num_head_channels`; the
        /// inner width heads · d_head is C either way.
        /// - onlyCross: the blocks' first attention attends to the context (`UNetConfig.CrossAttention.onlyCrossAttention`).
        init(_ path: ModulePath, channels c: Int, config: UNetConfig, cross: UNetConfig.CrossAttention, onlyCross: Bool = false) {
            let heads = config.heads.heads(channels: c)
            norm = GroupNormSpec(path.child("norm"), channels: c, groups: config.normGroups, eps: 1e-6)
            projIn = LinearSpec(path.child("proj_in"), input: c, output: c, convolution: !cross.linearProjection)
            let blockPaths = (0..<cross.depth).map { path.child("transformer_blocks.\($0)") }
            blocks = blockPaths.map { TransformerBlock.Layout($0, channels: c, heads: heads, contextDim: cross.contextDim, onlyCross: onlyCross) }
            blockTraces = blockPaths.map(\.trace)
            projOut = LinearSpec(path.child("proj_out"), input: c, output: c, convolution: !cross.linearProjection)
        }

        /// CompVis registration order: norm, proj_in, transformer_blocks, proj_out.
        var parameters: [ParameterSpec] {
            norm.parameters + projIn.parameters + blocks.flatMap(\.parameters) + projOut.parameters
        }

        func build(_ weights: any WeightProvider) throws -> any UNetLayer { try SpatialTransformer(weights, self) }
    }

    let norm: GroupNormLayer
    let projIn: LinearLayer
    let blocks: [TransformerBlock]
    let projOut: LinearLayer
    let contextDim: Int
    let blockTraces: [String]

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        norm = try GroupNormLayer(weights, layout.norm)
        projIn = try LinearLayer(weights, layout.projIn)
        blocks = try layout.blocks.map { try TransformerBlock(weights, $0) }
        projOut = try LinearLayer(weights, layout.projOut)
        contextDim = layout.blocks.first?.crossKV.first?.input ?? 0
        blockTraces = layout.blockTraces
    }

    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let t = h * w
        // One image against several contexts (a shared guidance input: TransformerBlock) comes out with the context's rows.
        guard let context = inputs.context, context.rank == 3, context.shape[0] == n || n == 1, context.shape[2] == contextDim else {
            throw TensorError.shapeMismatch(operation: "SpatialTransformer", argument: "context",
                                            expected: "[\(n), L, \(contextDim)] (the text encoder's output)", actual: inputs.context?.shape ?? [])
        }
        let normed = try norm(x, silu: false, ws)
        let tokens = try ws.tensor([n, t, c])
        try Transpose.forward(try normed.reshaped([n, c, t]), into: tokens)
        var hidden = try projIn(try tokens.reshaped([n * t, c]), images: n, ws)
        for (block, name) in zip(blocks, blockTraces) {
            hidden = try block(hidden, tokens: t, context: context, ws)
            if let trace = inputs.trace { trace(name, try hidden.reshaped([hidden.shape[0] / t, t, c])) }
        }
        let rows = hidden.shape[0] / t
        let projected = try projOut(hidden, images: rows, ws)
        let out = try ws.tensor([rows, c, h, w])
        try Transpose.forward(try projected.reshaped([rows, t, c]), into: try out.reshaped([rows, c, t]))
        var residual = x
        if rows != n {
            residual = try ws.tensor([rows, c, h, w])
            try Concat.repeatBatch(x, into: residual)
        }
        try Elementwise.add(residual, out, into: out)
        return out
    }
}
