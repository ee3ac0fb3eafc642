import Dispatch
import LDMParallel
import Synchronization
import Testing

/// Threads as an explicit, task-local context (Sources/LDMParallel/Parallel.swift) and the core
/// budget shared by computations running at once (CoreBudget.swift).
@Suite struct ParallelContextTests {
    /// Busy parallel loops of `count` indices; returns how many ran.
    static func work(_ count: Int = 64) -> Int {
        let sum = Atomic<Int>(0)
        for _ in 0..<20 { Parallel.forEach(count) { range in _ = sum.add(range.count, ordering: .relaxed) } }
        return sum.load(ordering: .relaxed)
    }

    @Test func scopeSetsTheCountAndOutsideTheDefaultApplies() {
        #expect(Parallel.context == nil && Parallel.threads == Parallel.defaultThreads)
        Parallel.run(threads: 3) {
            #expect(Parallel.threads == 3)
            Parallel.run(threads: 1) { #expect(Parallel.threads == 1) }
            #expect(Parallel.threads == 3)
        }
        #expect(Parallel.run(threads: 0) { Parallel.threads } == 1, "at least one thread")
    }

    /// Two computations at once in one process, at different counts: each loop sees its own.
    @Test func concurrentComputationsEachSeeTheirOwnCount() {
        let observers = [ThreadObserver(), ThreadObserver()]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            Parallel.run(threads: i + 1, observer: observers[i]) { _ = Self.work() }
        }
        #expect(observers[0].loopCount == 20 && observers[0].maximumChunks == 1)
        #expect(observers[1].loopCount == 20 && observers[1].maximumChunks == 2)
    }

    /// Four computations asking for two cores each from a two-core budget never hold more than two
    /// between them, and their loops never use more threads than they were granted.
    @Test func coreBudgetNeverOversubscribes() {
        let budget = CoreBudget(cores: 2)
        let inUse = Atomic<Int>(0), peak = Atomic<Int>(0), overrun = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let observer = ThreadObserver()
            budget.run(requesting: 2, observer: observer) { granted in
                let now = inUse.add(granted, ordering: .relaxed).newValue
                _ = peak.max(now, ordering: .relaxed)
                #expect(Self.work(4096) == 20 * 4096)
                _ = inUse.subtract(granted, ordering: .relaxed)
                if observer.maximumChunks > granted { _ = overrun.add(1, ordering: .relaxed) }
            }
        }
        #expect(peak.load(ordering: .relaxed) <= 2 && peak.load(ordering: .relaxed) >= 1)
        #expect(overrun.load(ordering: .relaxed) == 0)
        #expect(budget.run(requesting: 8) { $0 } == 2, "never more than the budget's cores")
    }
}
