import LDMTensor

/// Conv2d with its weights (16-bit ones widened per call or per GEMM tile, `Conv2d.forward(weight: WeightTensor…)`). - x: [N, C, H, W] → [N, O, Ho, Wo]
public struct Conv2dLayer: Sendable {
    public let weight: WeightTensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Conv2d.Padding

    /// The layer of `spec`, its tensors fetched by the spec's names.
    public init(_ weights: any WeightProvider, _ spec: ConvolutionSpec) throws {
        weight = try spec.weight.loadWeight(weights, as: [spec.output, spec.input, spec.kernel, spec.kernel])
        bias = try spec.bias.load(weights, as: [spec.output])
        stride = spec.stride
        padding = spec.padding
    }

    public func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        try Conv2d.forward(x, weight: weight, bias: bias, stride: stride, padding: padding, workspace: ws)
    }
}

/// GroupNorm (+ optional fused SiLU). - x: [N, C, ...] → same shape
public struct GroupNormLayer: Sendable {
    public let gamma: Tensor
    public let beta: Tensor
    public let groups: Int
    public let eps: Float

    public init(_ weights: any WeightProvider, _ spec: GroupNormSpec) throws {
        guard spec.groups > 0, spec.channels % spec.groups == 0 else {
            throw TensorError.invalidArgument(operation: "GroupNorm \(spec.path.name).", reason: "\(spec.channels) channels do not split into \(spec.groups) groups; the configuration does not fit these weights")
        }
        gamma = try spec.weight.load(weights, as: [spec.channels])
        beta = try spec.bias.load(weights, as: [spec.channels])
        groups = spec.groups
        eps = Float(spec.eps)
    }

    public func callAsFunction(_ x: Tensor, silu: Bool, _ ws: Workspace) throws -> Tensor {
        let y = try ws.tensor(x.shape)
        var shared: [(mean: Double, variance: Double)]?
        if let context = ws.normStatistics {
            if context.mode == .record { context.record(x, groups: groups) }
            shared = context.replayed(groups: groups)
            context.advance()
        }
        try GroupNorm.forward(x, groups: groups, gamma: gamma, beta: beta, eps: eps, fusedSiLU: silu, statistics: shared, into: y)
        return y
    }
}

/// nn.Linear (or a 1x1 conv acting on token rows), 16-bit weights widened per call (`WeightTensor`).
/// - x: [N, In] → [N, Out]
public struct LinearLayer: Sendable {
    public let weight: WeightTensor
    public let bias: Tensor?

    public init(_ weights: any WeightProvider, _ spec: LinearSpec) throws {
        weight = try spec.weight.loadWeight(weights, as: [spec.output, spec.input])
        bias = try spec.bias?.load(weights, as: [spec.output])
    }

    /// Several layers reading the same input as one: their rows stacked (q, k, v → one GEMM), so
    /// the output's columns are each layer's outputs side by side. All or none have biases.
    public init(fusing specs: [LinearSpec], _ weights: any WeightProvider) throws {
        let layers = try specs.map { try LinearLayer(weights, $0) }
        guard let first = layers.first, layers.allSatisfy({ $0.weight.shape[1] == first.weight.shape[1] && ($0.bias == nil) == (first.bias == nil) }) else {
            throw TensorError.invalidArgument(operation: "linear", reason: "fused layers must share their input width and bias use")
        }
        weight = try WeightTensor.stacking(layers.map(\.weight))
        if first.bias != nil {
            let bias = try Tensor(shape: [weight.shape[0]])
            var row = 0
            for layer in layers {
                if let b = layer.bias { (bias.data + row).update(from: b.data, count: b.count) }
                row += layer.weight.shape[0]
            }
            self.bias = bias
        } else {
            bias = nil
        }
    }

    /// - x: [images·T, In] → [images·T, Out], each image its own product (`Linear.forward`: an image's bits do not
    ///   depend on the rest of the batch).
    public func callAsFunction(_ x: Tensor, images: Int, _ ws: Workspace) throws -> Tensor {
        let y = try ws.tensor([x.shape[0], weight.shape[0]])
        try Linear.forward(x, weight: weight, bias: bias, into: y, images: images, workspace: ws)
        return y
    }
}

/// nn.LayerNorm over the last dimension. - x: [..., C] → same shape
public struct LayerNormLayer: Sendable {
    public let gamma: Tensor
    public let beta: Tensor
    public let eps: Float

    public init(_ weights: any WeightProvider, _ spec: LayerNormSpec) throws {
        gamma = try spec.weight.load(weights, as: [spec.channels])
        beta = try spec.bias.load(weights, as: [spec.channels])
        eps = Float(spec.eps)
    }

    public func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let y = try ws.tensor(x.shape)
        try LayerNorm.forward(x, gamma: gamma, beta: beta, eps: eps, into: y)
        return y
    }
}

/// Observer of intermediate results, keyed with the diffusers module name of the same output,
/// so parity tests can compare every block with a PyTorch trace.
public typealias ModelTrace = (String, Tensor) -> Void
