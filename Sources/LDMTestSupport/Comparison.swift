/// Error measures for comparing a kernel with its twin or a reference, and a report for failures.
public struct Comparison: CustomStringConvertible, Sendable {
    public let count: Int
    public let maxAbs: Double
    /// max |a − b| / max(|b|, floor): relative error, with `floor` keeping near-zero values sane.
    public let maxRelative: Double
    /// Σ(a − b)² / Σ b² (ggml's NMSE).
    public let nmse: Double
    public let firstPairs: [(Float, Float)]

    public init(_ actual: [Float], _ expected: [Float], relativeFloor: Double = 1e-3) {
        precondition(actual.count == expected.count, "compared arrays differ in length: \(actual.count) vs \(expected.count)")
        var maxAbs = 0.0, maxRel = 0.0, num = 0.0, den = 0.0
        for (a, b) in zip(actual, expected) {
            let d = abs(Double(a) - Double(b))
            maxAbs = max(maxAbs, d.isNaN ? .infinity : d)
            maxRel = max(maxRel, d / max(abs(Double(b)), relativeFloor))
            num += d * d
            den += Double(b) * Double(b)
        }
        count = actual.count
        self.maxAbs = maxAbs
        maxRelative = maxRel
        nmse = den > 0 ? num / den : num
        firstPairs = Array(zip(actual, expected).prefix(5))
    }

    public var description: String {
        let pairs = firstPairs.map { "(\($0.0), \($0.1))" }.joined(separator: " ")
        return "n=\(count) maxAbs=\(maxAbs) maxRel=\(maxRelative) nmse=\(nmse) first: \(pairs)"
    }
}

/// Deterministic pseudo-random values in [−scale, scale] (xorshift; same on every run and platform).
public func testValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}

/// Runs `body` as a computation on `threads` threads (a task-local scope: tests running at the
/// same time are not affected).
public func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    try Parallel.run(threads: threads, body)
}

/// Like `withThreads`, and also returns the most threads any parallel loop inside really used, so a
/// determinism test can prove it ran at the count it claims (`#expect(observed == threads)`).
public func withObservedThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> (result: T, observed: Int) {
    let observer = ThreadObserver()
    let result = try Parallel.run(threads: threads, observer: observer, body)
    return (result, observer.maximumChunks)
}

import LDMParallel
