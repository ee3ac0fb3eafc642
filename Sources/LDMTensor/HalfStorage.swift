#if canImport(Glibc)
import Glibc
#endif

/// Owns one 64-byte aligned block of 16-bit words: the bits of IEEE half-precision or bfloat16
/// weights, kept as a file stored them (`WeightTensor`). Anonymous memory, not the mapped file, so
/// a loaded model's resident size is its weights' bytes once, whatever the page cache does.
///
/// `@unchecked Sendable` for the same reason as `TensorStorage`: written once while a model loads,
/// then only read.
public final class HalfStorage: @unchecked Sendable {
    public let capacity: Int
    public let pointer: UnsafeMutablePointer<UInt16>

    /// Allocates `capacity` words, uninitialised. Throws when the memory cannot be had.
    public init(capacity: Int) throws(TensorError) {
        let (bytes, overflow) = max(1, capacity).multipliedReportingOverflow(by: MemoryLayout<UInt16>.stride)
        guard !overflow else { throw .tooLarge(elements: capacity) }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { throw .outOfMemory(bytes: bytes) }
        self.capacity = capacity
        self.pointer = raw.bindMemory(to: UInt16.self, capacity: max(1, capacity))
    }

    deinit { free(pointer) }
}
