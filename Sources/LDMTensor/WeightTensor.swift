/// A layer's weight as held in memory: Float32, or the 16 bits a file stored (IEEE half or bfloat16),
/// widened to Float32 each call right before the kernel that needs it (`float32(in:)`), into the
/// workspace's `weights` scratch — or tile by tile inside a GEMM whose tiles split its rows
/// (`BLAS.sgemm(weight:…)`: linear layers and convolutions over few tokens or pixels), or block by block inside
/// Winograd's weight transform. Half the memory of a float32 copy; widening is exact, so a model
/// computes the same bits either way. Row-major, shape as the layer computes with it.
///
/// Like `Tensor`, copying the struct shares the data.
public struct WeightTensor: Sendable {
    /// How the elements are held.
    public enum Precision: String, Sendable, Equatable, CaseIterable {
        case float32, float16, bfloat16

        /// Bytes per element in memory.
        public var byteSize: Int { self == .float32 ? 4 : 2 }
    }

    enum Storage: Sendable {
        case float32(Tensor)
        case bits(HalfStorage)
    }

    public let shape: [Int]
    public let precision: Precision
    let storage: Storage

    /// A Float32 weight (shares `tensor`'s data).
    public init(_ tensor: Tensor) {
        shape = tensor.shape
        precision = .float32
        storage = .float32(tensor)
    }

    /// A 16-bit weight over `storage` (`precision` `.float16` or `.bfloat16`; shares the data).
    public init(shape: [Int], precision: Precision, storage: HalfStorage) throws(TensorError) {
        let count = try Tensor.elementCount(shape)
        guard precision != .float32 else {
            throw .invalidArgument(operation: "WeightTensor", reason: "16-bit storage given with precision float32")
        }
        guard count <= storage.capacity else {
            throw .shapeMismatch(operation: "WeightTensor", argument: "storage", expected: "at least \(count) elements", actual: [storage.capacity])
        }
        self.shape = shape
        self.precision = precision
        self.storage = .bits(storage)
    }

    /// Throws `shapeMismatch` unless the shape matches `expected` (nil entries match any size), as `Tensor.expect`.
    public func expect(_ expected: [Int?], _ operation: String, _ argument: String) throws(TensorError) {
        try Tensor.expect(shape, expected, operation, argument)
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    /// Bytes the elements take in memory.
    public var bytes: Int { count * precision.byteSize }

    /// The Float32 tensor when that is how the weight is held (no copy); nil for 16-bit.
    public var float32Tensor: Tensor? {
        if case .float32(let t) = storage { return t }
        return nil
    }

    /// The 16-bit words when the weight is held in 16 bits; nil for Float32.
    public var bits: UnsafePointer<UInt16>? {
        if case .bits(let s) = storage { return UnsafePointer(s.pointer) }
        return nil
    }

    /// The elements' bytes as held (4 or 2 per element), for code that rearranges weights while loading.
    public var baseAddress: UnsafeRawPointer {
        switch storage {
        case .float32(let t): UnsafeRawPointer(t.data)
        case .bits(let s): UnsafeRawPointer(s.pointer)
        }
    }

    /// Same data, another shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> WeightTensor {
        guard (try Tensor.elementCount(newShape)) == count else {
            throw .shapeMismatch(operation: "reshaped", argument: "new shape", expected: "\(count) elements", actual: newShape)
        }
        switch storage {
        case .float32(let t): return WeightTensor(try t.reshaped(newShape))
        case .bits(let s): return try WeightTensor(shape: newShape, precision: precision, storage: s)
        }
    }

    /// Elements `range` (row-major) as Float32 into `y` (`range.count` floats): the CLIP token
    /// embedding reads its rows this way, without widening the whole table. `parallel: false` stays on the
    /// calling thread (inside a `Parallel.forEach` body: `BLAS.sgemm(weight:…)`'s tiles).
    public func widen(elements range: Range<Int>, into y: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "elements \(range) of \(count)")
        switch storage {
        case .float32(let t): y.update(from: t.data + range.lowerBound, count: range.count)
        case .bits(let s):
            if precision == .float16 {
                Widen.float16(s.pointer + range.lowerBound, into: y, count: range.count, parallel: parallel)
            } else {
                Widen.bfloat16(s.pointer + range.lowerBound, into: y, count: range.count, parallel: parallel)
            }
        }
    }

    /// Every element as Float32 into `y` (`count` floats).
    public func widened(into y: UnsafeMutablePointer<Float>) { widen(elements: 0..<count, into: y) }

    /// The weight as a Float32 tensor: itself when held as Float32, else its widening in `workspace`'s `weights`
    /// scratch, valid until that slot's next request (kernels that take the weight as held: `Conv2d`, `BLAS`).
    public func float32(in workspace: Workspace) throws(TensorError) -> Tensor {
        if case .float32(let t) = storage { return t }
        let t = try workspace.scratchTensor(.weights, shape: shape)
        widened(into: t.data)
        return t
    }

    /// A Float32 copy of its own (tests, fusing weights of mixed precisions).
    public func float32() throws(TensorError) -> Tensor {
        let t = try Tensor(shape: shape)
        widened(into: t.data)
        return t
    }

    /// How many elements are NaN or ±Inf (exponent bits all ones), counted on the stored bits.
    public func nonFiniteCount() -> Int {
        switch storage {
        case .float32(let t): return FastMath.nonFiniteCount(t.data, count: t.count)
        case .bits(let s):
            let exponent: UInt16 = precision == .float16 ? 0x7c00 : 0x7f80
            let mask = SIMD16<UInt16>(repeating: exponent), zero = SIMD16<UInt16>(), one = SIMD16<UInt16>(repeating: 1)
            var lanes = zero, bad = 0, i = 0
            func flush() {
                for lane in lanes.indices { bad += Int(lanes[lane]) }
                lanes = zero
            }
            while i + 16 <= count {
                let v = UnsafeRawPointer(s.pointer + i).loadUnaligned(as: SIMD16<UInt16>.self)
                lanes &+= zero.replacing(with: one, where: (v & mask) .== mask)
                i += 16
                if i & 0xffff == 0 { flush() }  // a lane has counted at most 4096: far from wrapping
            }
            flush()
            while i < count {
                if s.pointer[i] & exponent == exponent { bad += 1 }
                i += 1
            }
            return bad
        }
    }

    /// The weights stacked along the first axis (q, k, v → one fused projection): all must share
    /// the trailing shape. 16-bit stays 16-bit when all share one precision; mixed ones are widened.
    /// - parts: [Oᵢ, ...] → [ΣOᵢ, ...]
    public static func stacking(_ parts: [WeightTensor]) throws(TensorError) -> WeightTensor {
        guard let first = parts.first, first.rank >= 1, parts.allSatisfy({ $0.shape.dropFirst() == first.shape.dropFirst() }) else {
            throw .invalidArgument(operation: "stacking", reason: "weights \(parts.map(\.shape)) do not share a trailing shape")
        }
        let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + first.shape.dropFirst()
        let precision = first.precision
        if precision != .float32, parts.allSatisfy({ $0.precision == precision }) {
            let storage = try HalfStorage(capacity: try Tensor.elementCount(shape))
            var offset = 0
            for part in parts {
                if let bits = part.bits { (storage.pointer + offset).update(from: bits, count: part.count) }
                offset += part.count
            }
            return try WeightTensor(shape: shape, precision: precision, storage: storage)
        }
        let t = try Tensor(shape: shape)
        var offset = 0
        for part in parts {
            part.widened(into: t.data + offset)
            offset += part.count
        }
        return WeightTensor(t)
    }
}
