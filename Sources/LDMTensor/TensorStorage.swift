#if canImport(Glibc)
import Glibc
#endif

/// Owns one 64-byte aligned block of Float32 (cache-line and AVX-512 friendly).
///
/// A class so that a `Tensor` can be passed around without copying its data. It is
/// `@unchecked Sendable` because the memory is raw: the project's rule is that concurrent kernels
/// write disjoint ranges of an output and only read their inputs, which the type system cannot see.
public final class TensorStorage: @unchecked Sendable {
    public let capacity: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `capacity` floats, uninitialised. Throws when the memory cannot be had.
    public init(capacity: Int) throws(TensorError) {
        let (bytes, overflow) = max(1, capacity).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { throw .tooLarge(elements: capacity) }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { throw .outOfMemory(bytes: bytes) }
        self.capacity = capacity
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(1, capacity))
    }

    deinit { free(pointer) }
}
