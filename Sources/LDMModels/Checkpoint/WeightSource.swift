import LDMTensor

/// Where one tensor's elements live inside a mapped file.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte offset of element 0 in the file.
    public let byteOffset: Int
    /// Element strides (row-major contiguous for safetensors; as saved for PyTorch).
    public let strides: [Int]
    /// Name of the storage the data lives in (tensors sharing one share memory), if known.
    public let storage: String?

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A read-only collection of named tensors, whatever the file format.
public protocol WeightSource: Sendable {
    var path: String { get }
    /// "safetensors", "pytorch-zip", ...
    var format: String { get }
    /// Every tensor, keyed by its name in the file.
    var tensors: [String: TensorInfo] { get }
    /// Free-form metadata (safetensors `__metadata__`); empty when the format has none.
    var metadata: [String: String] { get }
    /// The mapped bytes the infos point into.
    var file: MappedFile { get }
}

extension WeightSource {
    public var names: [String] { tensors.keys.sorted() }

    /// Loads a floating-point tensor as contiguous Float32 (F16/BF16/F64 converted, strides honoured).
    public func load(_ name: String) throws(CheckpointError) -> Tensor {
        guard let info = tensors[name] else { throw .missingTensor(path: path, key: name) }
        guard info.dtype.isFloatingPoint else {
            throw .unsupportedDType(path: path, key: name, dtype: info.dtype.rawValue)
        }
        let tensor: Tensor
        do {
            tensor = try Tensor(shape: info.shape)
        } catch {
            throw .tensorOutOfBounds(path: path, key: name, reason: "\(error)")
        }
        guard let base = file.bytes.baseAddress, info.elementCount > 0 else { return tensor }
        let origin = base + info.byteOffset
        let out = tensor.data
        if info.strides == Self.contiguousStrides(info.shape) {
            defer { file.release(info.byteOffset..<(info.byteOffset + info.elementCount * info.dtype.byteSize)) }
            if info.dtype == .f32 {
                UnsafeMutableRawPointer(out).copyMemory(from: origin, byteCount: 4 * info.elementCount)
            } else {
                for i in 0..<info.elementCount { out[i] = info.dtype.float(origin, i) }
            }
            return tensor
        }
        Self.walk(info) { i, source in out[i] = info.dtype.float(origin, source) }
        return tensor
    }

    /// Loads a floating-point tensor as `precision` holds it: f16/bf16 under `.asStored` (f16 under `.float16`)
    /// as their 16-bit words, copied out of the mapped file (whose pages are then released, so the model is
    /// resident once, in anonymous memory); other dtypes under `.float16` narrowed from Float32 (`narrowed`);
    /// anything else as `load` gives it, Float32.
    public func loadWeight(_ name: String, precision: WeightPrecision) throws(CheckpointError) -> WeightTensor {
        guard let info = tensors[name] else { throw .missingTensor(path: path, key: name) }
        let held = precision.held(info.dtype)
        guard held != .float32 else { return WeightTensor(try load(name)) }
        if held == .float16, info.dtype != .f16 { return try narrowed(name, shape: info.shape) }
        let weight: WeightTensor, words: UnsafeMutablePointer<UInt16>
        do {
            let storage = try HalfStorage(capacity: info.elementCount)
            weight = try WeightTensor(shape: info.shape, precision: held, storage: storage)
            words = storage.pointer
        } catch {
            throw .tensorOutOfBounds(path: path, key: name, reason: "\(error)")
        }
        guard let base = file.bytes.baseAddress, info.elementCount > 0 else { return weight }
        let origin = base + info.byteOffset
        if info.strides == Self.contiguousStrides(info.shape) {
            UnsafeMutableRawPointer(words).copyMemory(from: origin, byteCount: 2 * info.elementCount)
            file.release(info.byteOffset..<(info.byteOffset + 2 * info.elementCount))
        } else {
            Self.walk(info) { i, source in words[i] = UInt16(littleEndian: origin.loadUnaligned(fromByteOffset: 2 * source, as: UInt16.self)) }
        }
        return weight
    }

    /// The tensor as float16 words: loaded as Float32, then each value rounded to the nearest float16 (ties to
    /// even, Swift's `Float16(_:)`); NaN and ±Inf pass through (the caller's finiteness check names them), finite
    /// values beyond ±65504 are refused (`halfRange`) rather than turned into infinities.
    func narrowed(_ name: String, shape: [Int]) throws(CheckpointError) -> WeightTensor {
        let wide = try load(name)
        let weight: WeightTensor, words: UnsafeMutablePointer<UInt16>
        do {
            let storage = try HalfStorage(capacity: wide.count)
            weight = try WeightTensor(shape: shape, precision: .float16, storage: storage)
            words = storage.pointer
        } catch {
            throw .tensorOutOfBounds(path: path, key: name, reason: "\(error)")
        }
        var beyond = 0, largest: Float = 0
        for i in 0..<wide.count {
            let x = wide.data[i], h = Float16(x)
            if x.isFinite, !h.isFinite {
                beyond += 1
                largest = max(largest, abs(x))
            }
            words[i] = h.bitPattern
        }
        guard beyond == 0 else { throw .halfRange(path: path, key: name, count: beyond, largest: largest) }
        return weight
    }

    /// Calls `body(i, source)` for every element i in row-major order with its element offset in the file.
    static func walk(_ info: TensorInfo, _ body: (Int, Int) -> Void) {
        var index = [Int](repeating: 0, count: info.shape.count)
        var source = 0
        for i in 0..<info.elementCount {
            body(i, source)
            var axis = info.shape.count - 1
            while axis >= 0 {
                // Wrapping: a size-1 dimension's stride is never used to address an element and may be
                // anything (Int.max overflowed here); every offset actually read is exact modulo 2^64.
                index[axis] += 1
                source &+= info.strides[axis]
                if index[axis] < info.shape[axis] { break }
                source &-= info.strides[axis] &* info.shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Whether the non-zero sizes of `shape` times `elementSize` fit in an `Int`. A shape with a zero
    /// holds no bytes, yet `[0, 1 << 40, 1 << 40]` overflowed `contiguousStrides` and the element
    /// count (found by fuzzing): parsers refuse such shapes, so every stride and count below is exact.
    static func shapeFits(_ shape: [Int], elementSize: Int) -> Bool {
        var product = elementSize
        for d in shape where d > 0 {
            let (next, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return false }
            product = next
        }
        return true
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }
}
