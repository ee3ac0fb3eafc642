import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How many threads a computation may use, decided in one place and passed explicitly.
///
/// A computation runs inside `Parallel.run(threads:)` (a task-local `ExecutionContext`, so two
/// computations in one process — tests running in parallel, the server's jobs — each see their own
/// count); outside any such scope the process default applies (`--threads` once, at start-up;
/// physical cores otherwise). `CoreBudget` shares the cores between computations running at once.
/// Our own loops run through `Parallel.forEach`; the BLAS wrapper in LDMTensor reads `threads`
/// before each GEMM and hands the same count to OpenBLAS. The two never nest: GEMMs are called
/// between parallel loops, never inside one, so at most `threads` threads compute at any time.
public enum Parallel {
    /// The computation's context; nil outside `run(threads:)`.
    @TaskLocal public static var context: ExecutionContext?

    private static let defaultCount = Atomic<Int>(0)

    /// The process default, for code outside any `run(threads:)` scope: set once by a program's
    /// entry point; the number of physical cores until then (SMT siblings add no FP throughput).
    public static var defaultThreads: Int {
        get {
            let count = defaultCount.load(ordering: .relaxed)
            return count > 0 ? count : System.physicalCoreCount
        }
        set { defaultCount.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Worker threads of the current computation.
    public static var threads: Int { context?.threads ?? defaultThreads }

    /// Runs `body` as a computation on `threads` threads (≥ 1); `observer`, if given, records the
    /// chunk counts the parallel loops inside really used. Results never depend on the count.
    public static func run<R>(threads: Int, observer: ThreadObserver? = nil, _ body: () throws -> R) rethrows -> R {
        try $context.withValue(ExecutionContext(threads: max(1, threads), observer: observer), operation: body)
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
        context?.observer?.record(chunks)
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

/// The thread count of one computation (see `Parallel.run(threads:observer:)`).
public struct ExecutionContext: Sendable {
    public var threads: Int
    public var observer: ThreadObserver?

    public init(threads: Int, observer: ThreadObserver? = nil) {
        self.threads = threads
        self.observer = observer
    }
}

/// What the parallel loops of a computation really did: how many loops ran and the largest number of
/// chunks (= threads working at once) any of them used. Lets determinism tests prove the thread
/// counts they claim, observed inside the kernels.
public final class ThreadObserver: Sendable {
    private let loops = Atomic<Int>(0)
    private let widest = Atomic<Int>(0)

    public init() {}

    func record(_ chunks: Int) {
        _ = loops.add(1, ordering: .relaxed)
        _ = widest.max(chunks, ordering: .relaxed)
    }

    /// Parallel loops run so far.
    public var loopCount: Int { loops.load(ordering: .relaxed) }
    /// The most chunks one loop used.
    public var maximumChunks: Int { widest.load(ordering: .relaxed) }
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
