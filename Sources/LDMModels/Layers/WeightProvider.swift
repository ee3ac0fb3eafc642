import LDMTensor

/// Anything that hands out canonical tensors by name (`ModelWeights`, or generated weights for benchmarks).
public protocol WeightProvider: Sendable {
    func tensor(_ name: String) throws -> Tensor
}

extension ModelWeights: WeightProvider {}

extension ParameterSpec {
    /// This parameter from `weights`, checked against `shape`, the shape the layer computes with (the
    /// same elements as the canonical shape: a Conv1d's [O, C, 1] runs as [O, C, 1, 1]). Layers fetch
    /// their tensors only through the specs of their layout, so a model consumes exactly the
    /// parameters its layout lists.
    func load(_ weights: any WeightProvider, as shape: [Int]) throws -> Tensor {
        let t = try weights.tensor(name)
        guard t.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(operation: "load", argument: name, expected: "\(shape)", actual: t.shape)
        }
        return t.shape == shape ? t : try t.reshaped(shape)
    }
}
