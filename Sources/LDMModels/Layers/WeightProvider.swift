import LDMTensor

/// Anything that hands out canonical tensors by name (`ModelWeights`, or generated weights for benchmarks).
public protocol WeightProvider: Sendable {
    /// The tensor as Float32 (biases, norm scales, and anything a layer reads whole).
    func tensor(_ name: String) throws -> Tensor
    /// A layer's matrix as the provider holds it: 16-bit when the file stored 16 bits and the
    /// provider keeps them (`WeightPrecision`); by default `tensor(_:)`'s Float32.
    func weight(_ name: String) throws -> WeightTensor
}

extension WeightProvider {
    public func weight(_ name: String) throws -> WeightTensor { WeightTensor(try tensor(name)) }
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

    /// Like `load`, the weight as the provider holds it (`WeightProvider.weight`): conv and linear
    /// matrices, fused projections and embedding tables, widened per call.
    func loadWeight(_ weights: any WeightProvider, as shape: [Int]) throws -> WeightTensor {
        let t = try weights.weight(name)
        guard t.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(operation: "load", argument: name, expected: "\(shape)", actual: t.shape)
        }
        return t.shape == shape ? t : try t.reshaped(shape)
    }
}
