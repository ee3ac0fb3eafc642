import LDMTensor

/// transformers `CLIPTextModel` (CompVis `FrozenCLIPEmbedder.transformer`), built from its `CLIPTextLayout`:
/// token + position embeddings, pre-LN encoder layers with causal self-attention (scores · d^-½, query t
/// sees tokens 0 ... t) and an MLP (fc1 → quick-GELU or GELU → fc2), the final LayerNorm.
/// - tokens: N prompts of L ids each (L ≤ maxPositions; SD pads to 77) → [N, L, width]
public final class CLIPTextEncoder: Sendable {
    public let config: CLIPTextConfig

    struct Layer: Sendable {
        let norm1: LayerNormLayer
        let qkv: LinearLayer
        let out: LinearLayer
        let norm2: LayerNormLayer
        let fc1: LinearLayer
        let fc2: LinearLayer
        let trace: String
    }

    /// [vocabSize, width] and [maxPositions, width], as held (16-bit rows widened as they are read).
    let tokenEmbedding: WeightTensor
    let positionEmbedding: WeightTensor
    let layers: [Layer]
    let finalNorm: LayerNormLayer

    /// Builds the encoder from canonical weights (`text.…`), checking every tensor's shape.
    public init(_ weights: any WeightProvider, config c: CLIPTextConfig) throws {
        config = try c.validated(path: "CLIPTextConfig")
        let layout = CLIPTextLayout(c)
        tokenEmbedding = try layout.tokenEmbedding.weight.loadWeight(weights, as: [c.vocabSize, c.width])
        positionEmbedding = try layout.positionEmbedding.weight.loadWeight(weights, as: [c.maxPositions, c.width])
        layers = try zip(layout.layers, layout.layerTraces).map { spec, trace in
            Layer(norm1: try LayerNormLayer(weights, spec.norm1), qkv: try LinearLayer(fusing: spec.qkv, weights),
                  out: try LinearLayer(weights, spec.out), norm2: try LayerNormLayer(weights, spec.norm2),
                  fc1: try LinearLayer(weights, spec.fc1), fc2: try LinearLayer(weights, spec.fc2), trace: trace)
        }
        finalNorm = try LayerNormLayer(weights, layout.finalNorm)
    }

    /// The final LayerNorm of the hidden state after all but the last `skipLastLayers` layers: 0 is
    /// `last_hidden_state` (SD 1.x, and SD 2.x as loaded here: its encoder comes with 23 layers, diffusers'
    /// text_encoder/ and an OpenCLIP single file alike, `CLIPTextLayout+OpenCLIP`); 1 is the penultimate layer
    /// of a full tower (CompVis `FrozenOpenCLIPEmbedder(layer="penultimate")` on all 24, web UIs' "clip skip 2").
    public func callAsFunction(tokens: [[Int]], skipLastLayers: Int = 0, workspace ws: Workspace,
                               trace: ModelTrace? = nil) throws -> Tensor {
        let c = config
        guard let l = tokens.first?.count, l >= 1, l <= c.maxPositions, tokens.allSatisfy({ $0.count == l }) else {
            throw TensorError.invalidArgument(operation: "CLIPTextEncoder", reason:
                "\(tokens.count) prompts of \(tokens.map(\.count)) tokens; each needs the same length of 1 to \(c.maxPositions)")
        }
        if let bad = tokens.joined().first(where: { !(0..<c.vocabSize).contains($0) }) {
            throw TensorError.invalidArgument(operation: "CLIPTextEncoder", reason: "token id \(bad) outside the vocabulary 0 ..< \(c.vocabSize)")
        }
        guard (0..<c.layers).contains(skipLastLayers) else {
            throw TensorError.invalidArgument(operation: "CLIPTextEncoder", reason: "skipLastLayers \(skipLastLayers) of \(c.layers) layers")
        }
        let (n, w) = (tokens.count, c.width)
        // embeddings: token_embedding(ids) + position_embedding(0 ..< L)
        var hidden = try ws.tensor([n * l, w])
        let position = try ws.scratch(.weights, count: w)
        for (i, id) in tokens.joined().enumerated() {
            let row = hidden.data + i * w
            tokenEmbedding.widen(elements: id * w..<(id + 1) * w, into: row)
            positionEmbedding.widen(elements: (i % l) * w..<(i % l + 1) * w, into: position)
            for j in 0..<w { row[j] += position[j] }
        }
        trace?("text_model.embeddings", try hidden.reshaped([n, l, w]))
        let attended = try ws.tensor([n, l, w])
        for layer in layers.prefix(c.layers - skipLastLayers) {
            let qkv = try layer.qkv(try layer.norm1(hidden, ws), images: n, ws).reshaped([n, l, 3 * w])
            try Attention.forward(query: .init(qkv, start: 0, count: w), key: .init(qkv, start: w, count: w),
                                  value: .init(qkv, start: 2 * w, count: w), heads: c.heads, causal: true, into: attended, workspace: ws)
            try Elementwise.add(hidden, try layer.out(try attended.reshaped([n * l, w]), images: n, ws), into: hidden)
            let inner = try layer.fc1(try layer.norm2(hidden, ws), images: n, ws)
            switch c.activation {
            case .quickGELU: try GELU.quick(inner, into: inner)
            case .gelu: try GELU.forward(inner, into: inner)
            }
            try Elementwise.add(hidden, try layer.fc2(inner, images: n, ws), into: hidden)
            trace?(layer.trace, try hidden.reshaped([n, l, w]))
        }
        hidden = try finalNorm(hidden, ws)
        return try hidden.reshaped([n, l, w])
    }
}
