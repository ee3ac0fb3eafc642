/// Reusable memory for kernels and models, so a model call allocates nothing in steady state.
///
/// Two kinds of memory:
/// - scratch slots: kernel-private buffers (im2col columns, attention scores) that grow to the
///   largest request and are reused; a slot's contents are only valid until its next request.
/// - a tensor pool: `tensor(_:)` hands out a pooled storage that nobody else references any more
///   (checked with `isKnownUniquelyReferenced`), allocating only when none fits. After a first
///   model call has sized the pool, later calls with the same shapes allocate nothing.
///
/// Not thread-safe: one workspace per pipeline, used from one thread (kernels parallelise inside).
public final class Workspace {
    /// Slots used by the kernels of this module. A kernel never calls another kernel that uses the same slot.
    /// `weights` holds one layer's 16-bit weights widened to Float32 while its kernel runs (`WeightTensor`).
    public enum Slot: Int, CaseIterable, Sendable {
        case columns, scores, winogradWeights, weights
    }

    private var scratch: [TensorStorage?] = Array(repeating: nil, count: Slot.allCases.count)
    private var pool: [TensorStorage] = []

    /// Number of storages allocated so far (scratch and pool), and their total bytes.
    public private(set) var allocations = 0
    public private(set) var allocatedBytes = 0

    /// Bytes held now by the tensor pool (grows with the tensors' sizes) and by the scratch slots
    /// (bounded by the kernels' caps: im2col bands, attention score blocks).
    public var poolBytes: Int { pool.reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.stride } }
    public var scratchBytes: Int { scratch.reduce(0) { $0 + ($1?.capacity ?? 0) * MemoryLayout<Float>.stride } }

    /// When set, GroupNorm layers record or replay image-wide statistics (tiled decoding).
    public var normStatistics: GroupNormStatistics?

    public init() {}

    /// At least `count` floats of scratch in `slot`.
    public func scratch(_ slot: Slot, count: Int) throws(TensorError) -> UnsafeMutablePointer<Float> {
        try scratchStorage(slot, count: count).pointer
    }

    /// A tensor of `shape` over `slot`'s scratch (grown to fit): valid until the slot's next request.
    public func scratchTensor(_ slot: Slot, shape: [Int]) throws(TensorError) -> Tensor {
        try Tensor(shape: shape, storage: try scratchStorage(slot, count: try Tensor.elementCount(shape)))
    }

    private func scratchStorage(_ slot: Slot, count: Int) throws(TensorError) -> TensorStorage {
        if let existing = scratch[slot.rawValue], existing.capacity >= count { return existing }
        let storage = try allocate(count)
        scratch[slot.rawValue] = storage
        return storage
    }

    /// An uninitialised tensor whose storage comes from the pool when a free one is big enough
    /// (smallest such), else a new one that joins the pool.
    public func tensor(_ shape: [Int]) throws(TensorError) -> Tensor {
        let count = try Tensor.elementCount(shape)
        var best: Int?
        for i in pool.indices where pool[i].capacity >= count && isKnownUniquelyReferenced(&pool[i]) {
            if best == nil || pool[i].capacity < pool[best!].capacity { best = i }
        }
        if let best { return try Tensor(shape: shape, storage: pool[best]) }
        let storage = try allocate(count)
        pool.append(storage)
        return try Tensor(shape: shape, storage: storage)
    }

    /// Drops every buffer (after a large image, to give memory back).
    public func releaseAll() {
        scratch = Array(repeating: nil, count: Slot.allCases.count)
        pool.removeAll()
    }

    private func allocate(_ count: Int) throws(TensorError) -> TensorStorage {
        let storage = try TensorStorage(capacity: count)
        allocations += 1
        allocatedBytes += count * MemoryLayout<Float>.stride
        return storage
    }
}
