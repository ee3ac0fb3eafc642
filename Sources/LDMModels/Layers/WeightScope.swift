import LDMTensor

/// A prefix-scoped view of a provider: blocks fetch their own tensors by their reference module
/// path (`w["in_layers.2"].tensor("weight", [o, c, 3, 3])`), so each key string appears once,
/// at the layer that consumes it, and every tensor is checked against the shape the layer expects.
public struct WeightScope: Sendable {
    public let provider: any WeightProvider
    public let prefix: String

    public init(_ provider: any WeightProvider, prefix: String) {
        self.provider = provider
        self.prefix = prefix
    }

    public subscript(_ child: String) -> WeightScope { WeightScope(provider, prefix: prefix + child + ".") }

    public func tensor(_ leaf: String, _ shape: [Int]) throws -> Tensor {
        let t = try provider.tensor(prefix + leaf)
        guard t.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(operation: "load", argument: prefix + leaf, expected: "\(shape)", actual: t.shape)
        }
        return t.shape == shape ? t : try t.reshaped(shape)
    }
}
