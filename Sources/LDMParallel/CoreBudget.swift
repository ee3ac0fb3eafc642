import Dispatch

/// The machine's cores, shared by computations that run at once in one process (the server's
/// edits, a batch and a preview): each takes what is free when it starts — at least one core,
/// waiting while none is — up to what it asks for, and gives them back when done. Together they
/// never run more threads than there are cores. Results do not depend on how many a computation
/// got (every kernel is bitwise identical for any thread count), only its speed does.
public final class CoreBudget: Sendable {
    /// One budget for the whole process: the physical cores.
    public static let shared = CoreBudget(cores: System.physicalCoreCount)

    public let cores: Int
    private let permits: DispatchSemaphore

    public init(cores: Int) {
        self.cores = max(1, cores)
        permits = DispatchSemaphore(value: self.cores)
    }

    /// Runs `body` inside `Parallel.run(threads:)` with between 1 and `requested` cores of this
    /// budget; `body` receives the count granted. Blocks (the calling thread) while no core is free.
    public func run<R>(requesting requested: Int, observer: ThreadObserver? = nil, _ body: (Int) throws -> R) rethrows -> R {
        permits.wait()
        var granted = 1
        while granted < min(requested, cores), permits.wait(timeout: .now()) == .success { granted += 1 }
        defer { for _ in 0..<granted { permits.signal() } }
        return try Parallel.run(threads: granted, observer: observer) { try body(granted) }
    }
}
