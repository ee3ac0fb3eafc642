/// A contiguous row-major Float32 tensor (NCHW for images and latents).
///
/// Ownership is explicit: a `Tensor` is a shape plus a reference to its `TensorStorage`. Copying
/// the struct shares the data (no hidden copy-on-write); `copy()` is the only way to duplicate it.
/// Kernels read and write through `data`, valid as long as the tensor value is alive.
public struct Tensor: Sendable {
    public let shape: [Int]
    public let storage: TensorStorage

    /// Uninitialised tensor of `shape`.
    public init(shape: [Int]) throws(TensorError) {
        let count = try Self.elementCount(shape)
        self.shape = shape
        self.storage = try TensorStorage(capacity: count)
    }

    /// Zero-filled tensor.
    public static func zeros(_ shape: [Int]) throws(TensorError) -> Tensor {
        let t = try Tensor(shape: shape)
        t.data.initialize(repeating: 0, count: t.count)
        return t
    }

    /// Tensor holding `values` (row-major).
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        try self.init(shape: shape)
        guard values.count == count else {
            throw .shapeMismatch(operation: "Tensor(shape:values:)", argument: "values",
                                 expected: "\(count) elements", actual: [values.count])
        }
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of existing storage (shares the data).
    public init(shape: [Int], storage: TensorStorage) throws(TensorError) {
        let count = try Self.elementCount(shape)
        guard count <= storage.capacity else {
            throw .shapeMismatch(operation: "Tensor(shape:storage:)", argument: "storage",
                                 expected: "at least \(count) elements", actual: [storage.capacity])
        }
        self.shape = shape
        self.storage = storage
    }

    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// The values, copied into an array (tests, debugging).
    public var values: [Float] { Array(buffer) }

    /// Same data, another shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        guard (try Self.elementCount(newShape)) == count else {
            throw .shapeMismatch(operation: "reshaped", argument: "new shape", expected: "\(count) elements",
                                 actual: newShape)
        }
        return try Tensor(shape: newShape, storage: storage)
    }

    /// A new tensor with its own copy of the data.
    public func copy() throws(TensorError) -> Tensor {
        let t = try Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    static func elementCount(_ shape: [Int]) throws(TensorError) -> Int {
        var count = 1
        for d in shape {
            guard d >= 0 else {
                throw .shapeMismatch(operation: "Tensor", argument: "shape", expected: "non-negative sizes", actual: shape)
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .tooLarge(elements: Int.max) }
            count = product
        }
        return count
    }
}

extension Tensor {
    /// Throws unless `shape` matches `expected`, where nil entries match any size.
    @inlinable
    public func expect(_ expected: [Int?], _ operation: String, _ argument: String) throws(TensorError) {
        try Tensor.expect(shape, expected, operation, argument)
    }

    /// The check behind `expect`, shared with `WeightTensor.expect`.
    @usableFromInline
    static func expect(_ shape: [Int], _ expected: [Int?], _ operation: String, _ argument: String) throws(TensorError) {
        let ok = shape.count == expected.count && zip(shape, expected).allSatisfy { $1 == nil || $0 == $1 }
        guard ok else {
            let text = "[" + expected.map { $0.map(String.init) ?? "_" }.joined(separator: ", ") + "]"
            throw .shapeMismatch(operation: operation, argument: argument, expected: text, actual: shape)
        }
    }
}
