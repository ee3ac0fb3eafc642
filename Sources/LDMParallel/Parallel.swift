import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one place where the project decides how many threads it uses.
///
/// `threads` is set once, from `--threads`, by the program entry point. Our own loops run through
/// `Parallel.forEach`; the BLAS wrapper in LDMTensor reads `threads` before each GEMM and hands the
/// same count to OpenBLAS. The two never nest: GEMMs are called between parallel loops, never inside
/// one, so at most `threads` threads compute at any time.
public enum Parallel {
    /// Atomic: the program sets it once, but tests change it while other tests run kernels
    /// (ThreadSanitizer reported the plain variable). Results never depend on it.
    private static let threadCount = Atomic<Int>(0)

    /// Worker threads; defaults to the number of physical cores (SMT siblings do not add FP throughput).
    public static var threads: Int {
        get {
            let count = threadCount.load(ordering: .relaxed)
            return count > 0 ? count : System.physicalCoreCount
        }
        set { threadCount.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Runs `body(range)` over `0..<count` split into at most `threads` contiguous chunks of at least
    /// `minimumChunk` indices. Each index is visited exactly once. Callers make each index's work
    /// independent of the split (no cross-index reductions), which is what keeps results bitwise
    /// identical for any thread count.
    public static func forEach(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        forEachChunk(count, minimumChunk: minimumChunk) { _, range in body(range) }
    }

    /// Number of chunks `forEachChunk` uses for `count` indices (for sizing per-chunk scratch).
    public static func chunkCount(_ count: Int, minimumChunk: Int = 1) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }

    /// Like `forEach`, also passing the chunk's index in 0..<chunkCount(count, minimumChunk:), so a
    /// chunk can use its own slice of scratch memory.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        // concurrentPerform wants a @Sendable closure; `body` is only called during this call and
        // callers hand each chunk disjoint memory, which is what makes the unchecked box sound.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                shared.value(chunk, start..<end)
            }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Facts about the machine.
public enum System {
    /// Online logical processors.
    public static var onlineProcessorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Distinct (package, core) pairs under /sys; the logical count when that is unreadable.
    public static let physicalCoreCount: Int = {
        var cores = Set<String>()
        for cpu in 0..<onlineProcessorCount {
            let base = "/sys/devices/system/cpu/cpu\(cpu)/topology/"
            guard let package = readLine(base + "physical_package_id"), let core = readLine(base + "core_id") else {
                return onlineProcessorCount
            }
            cores.insert(package + ":" + core)
        }
        return max(1, cores.count)
    }()

    private static func readLine(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
