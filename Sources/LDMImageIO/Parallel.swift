import Dispatch

/// How many threads our own loops may use. Set once, from `--threads`, by the program entry point;
/// every parallel loop in the project goes through `Parallel.forEach` so this is the only place
/// where concurrency is decided.
public enum Parallel {
    nonisolated(unsafe) private static var threadCount = 0

    /// Number of worker threads; defaults to the number of online processors.
    public static var threads: Int {
        get { threadCount > 0 ? threadCount : max(1, System.onlineProcessorCount) }
        set { threadCount = max(1, newValue) }
    }

    /// Runs `body(range)` over `0..<count` split into at most `threads` contiguous chunks.
    /// Each index is visited exactly once; the split depends only on `count` and `threads`.
    public static func forEach(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(1, minimumChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // concurrentPerform wants a @Sendable closure; `body` is only called during this call and
        // callers hand each chunk disjoint memory, which is what makes the unchecked box sound.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                shared.value(start..<end)
            }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

enum System {
    static var onlineProcessorCount: Int {
        #if canImport(Glibc)
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
