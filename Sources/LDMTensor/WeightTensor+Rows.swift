extension WeightTensor {
    /// Rows `range` of the first axis, copied as held (16-bit stays 16-bit): one of q, k, v out of a fused
    /// `in_proj_weight` [3C, C] or `in_proj_bias` [3C] (OpenCLIP's attention).
    /// - [R, ...] → [range.count, ...]
    public func rows(_ range: Range<Int>) throws(TensorError) -> WeightTensor {
        guard rank >= 1, range.lowerBound >= 0, range.upperBound <= shape[0] else {
            throw .invalidArgument(operation: "WeightTensor.rows", reason: "rows \(range) of a \(shape) weight")
        }
        let row = shape.dropFirst().reduce(1, *)
        let newShape = [range.count] + shape.dropFirst()
        let size = precision.byteSize
        let source = baseAddress + range.lowerBound * row * size
        if precision == .float32 {
            let t = try Tensor(shape: newShape)
            UnsafeMutableRawPointer(t.data).copyMemory(from: source, byteCount: range.count * row * size)
            return WeightTensor(t)
        }
        let storage = try HalfStorage(capacity: range.count * row)
        UnsafeMutableRawPointer(storage.pointer).copyMemory(from: source, byteCount: range.count * row * size)
        return try WeightTensor(shape: newShape, precision: precision, storage: storage)
    }
}
