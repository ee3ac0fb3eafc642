import LDMTensor

/// The CompVis `openaimodel.UNetModel` (docs/ldm-spec.md §1.3, §2.5), built from its `UNetLayout`: both
/// released configurations with one code path — whatever layers the layout places in each block
/// run in order, the skip stack is pushed after every input block and concatenated as `[h, skip]`
/// before every output block.
/// - x: [N, Cin, H, W] (H, W multiples of `config.downsamplingFactor`), timesteps: N values,
///   context: [N, L, D] (the text encoder's output; only with `config.crossAttention`) → ε: [N, Cout, H, W]
///   (or x: [1, …] shared by a context of N rows: `callAsFunction`)
public final class UNet: Sendable {
    public let config: UNetConfig

    struct Layer: Sendable {
        let run: any UNetLayer
        let trace: String?
    }

    struct Level: Sendable {
        let trace: String
        let blocks: [[Layer]]
    }

    let timeEmbedding: (trace: String, linear1: LinearLayer, linear2: LinearLayer)
    let classEmbedding: ClassEmbedding?
    let convIn: (trace: String, layer: Conv2dLayer)
    let down: [Level]
    let middle: Level
    let up: [Level]
    let outNorm: GroupNormLayer
    let outConv: (trace: String, layer: Conv2dLayer)

    /// Builds the network from canonical weights (`unet.…`), checking every tensor's shape.
    public init(_ weights: any WeightProvider, config c: UNetConfig) throws {
        config = try c.validated(path: "UNetConfig")  // files are checked on open; this guards direct callers
        let layout = UNetLayout(c)
        func build(_ level: UNetLayout.Level) throws -> Level {
            Level(trace: level.trace, blocks: try level.blocks.map { block in
                try block.layers.map { Layer(run: try $0.layout.build(weights), trace: $0.trace) }
            })
        }
        timeEmbedding = (layout.timeEmbedding.path.trace, try LinearLayer(weights, layout.timeEmbedding.linear1),
                         try LinearLayer(weights, layout.timeEmbedding.linear2))
        classEmbedding = try layout.classEmbedding.map { try ClassEmbedding(weights, $0) }
        convIn = (layout.convIn.path.trace, try Conv2dLayer(weights, layout.convIn))
        down = try layout.down.map(build)
        middle = try build(layout.middle)
        up = try layout.up.map(build)
        outNorm = try GroupNormLayer(weights, layout.outNorm)
        outConv = (layout.outConv.path.trace, try Conv2dLayer(weights, layout.outConv))
    }

    /// One denoising call: ε for x at the given (integer-valued) DDPM timesteps.
    /// - classLabels: one per batch row when the config has class embeddings (the x4 upscaler's noise level), else nil.
    /// - A single image x [1, …] (one timestep, one label) with a context of B > 1 rows is shared by them, as the two
    ///   branches of classifier-free guidance share theirs: ε has B rows, bit for bit what x repeated B times gives,
    ///   but the layers before the first product that reads the context (conv_in, the first ResBlocks, the first
    ///   self-attention) run once; the activations and skips are repeated there.
    public func callAsFunction(_ x: Tensor, timesteps: [Float], context: Tensor? = nil, classLabels: [Int]? = nil, workspace ws: Workspace,
                               trace: ModelTrace? = nil) throws -> Tensor {
        let c = config
        let factor = c.downsamplingFactor
        guard x.rank == 4, x.shape[1] == c.inChannels, x.shape[2] % factor == 0, x.shape[3] % factor == 0,
              timesteps.count == x.shape[0] else {
            throw TensorError.shapeMismatch(operation: "UNet", argument: "x", expected:
                "[\(timesteps.count), \(c.inChannels), H, W] with H and W multiples of \(factor)", actual: x.shape)
        }
        if let cross = c.crossAttention {
            guard let context, context.rank == 3, context.shape[0] == x.shape[0] || x.shape[0] == 1, context.shape[1] >= 1,
                  context.shape[2] == cross.contextDim else {
                throw TensorError.shapeMismatch(operation: "UNet", argument: "context",
                                                expected: "[\(x.shape[0]), L, \(cross.contextDim)] (the text encoder's output)", actual: context?.shape ?? [])
            }
        } else if let context {
            throw TensorError.shapeMismatch(operation: "UNet", argument: "context", expected: "none (this U-Net has no cross-attention)",
                                            actual: context.shape)
        }
        if let classEmbedding {
            guard let classLabels, classLabels.count == x.shape[0] else {
                throw TensorError.invalidArgument(operation: "UNet", reason: "this U-Net needs \(x.shape[0]) class label(s) in 0 ..< \(classEmbedding.count) (one per batch row)")
            }
        } else if classLabels != nil {
            throw TensorError.invalidArgument(operation: "UNet", reason: "this U-Net has no class embedding; class labels were given")
        }
        // emb = time_embed(timestep_embedding(t)) (+ label_emb(y)); every ResBlock applies SiLU first (emb_layers.0).
        let sinusoid = try ws.tensor([x.shape[0], c.modelChannels])
        try TimestepEmbedding.forward(timesteps, dim: c.modelChannels, into: sinusoid)
        let hidden = try timeEmbedding.linear1(sinusoid, images: x.shape[0], ws)
        try Elementwise.silu(hidden, into: hidden)
        let emb = try timeEmbedding.linear2(hidden, images: x.shape[0], ws)
        trace?(timeEmbedding.trace, emb)
        if let classEmbedding, let classLabels { try classEmbedding.add(labels: classLabels, to: emb, workspace: ws) }
        let embSiLU = try ws.tensor(emb.shape)
        try Elementwise.silu(emb, into: embSiLU)
        var inputs = UNetLayerInputs(embSiLU: embSiLU, context: context, trace: trace)
        let rows = context?.shape[0] ?? x.shape[0]
        var skips: [Tensor] = []
        /// A shared image becomes `rows` images where a layer first read the context: the skips and the time
        /// embedding follow (every image has the same ones).
        func repeated(_ t: Tensor) throws -> Tensor {
            let out = try ws.tensor([rows] + t.shape.dropFirst())
            try Concat.repeatBatch(t, into: out)
            return out
        }
        func follow(_ h: Tensor) throws {
            guard h.shape[0] != inputs.embSiLU.shape[0] else { return }
            skips = try skips.map(repeated)
            inputs = UNetLayerInputs(embSiLU: try repeated(inputs.embSiLU), context: context, trace: trace)
        }

        // In place, so that each layer's input can go back to the workspace pool as soon as it is used.
        func run(_ block: [Layer], _ h: inout Tensor) throws {
            for layer in block {
                h = try layer.run(h, inputs, ws)
                try follow(h)
                if let name = layer.trace { trace?(name, h) }
            }
        }

        var h = try convIn.layer(x, ws)
        trace?(convIn.trace, h)
        skips = [h]
        for level in down {
            for block in level.blocks {
                try run(block, &h)
                skips.append(h)
            }
            trace?(level.trace, h)
        }
        for block in middle.blocks { try run(block, &h) }
        trace?(middle.trace, h)
        for level in up {
            for block in level.blocks {
                let skip = skips.removeLast()
                let joined = try ws.tensor([h.shape[0], h.shape[1] + skip.shape[1], h.shape[2], h.shape[3]])
                try Concat.channels([h, skip], into: joined)
                h = joined
                try run(block, &h)
            }
            trace?(level.trace, h)
        }
        h = try outConv.layer(try outNorm(h, silu: true, ws), ws)
        if h.shape[0] != rows { h = try repeated(h) }  // no layer read the context
        trace?(outConv.trace, h)
        return h
    }
}
