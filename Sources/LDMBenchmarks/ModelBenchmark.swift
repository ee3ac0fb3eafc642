import LDMParallel
#if canImport(Glibc)
import Glibc
#endif

/// Times one whole-model case (`ModelCases`): a warm-up call that sizes the workspace, then
/// `repeats` timed calls; the median is the figure, since the machines are shared and noisy.
public struct ModelBenchmark: Sendable {
    public let name: String
    public let seconds: [Double]
    /// Peak resident memory while the case ran (weights, workspace and inputs), when /proc allows.
    public let peakResidentBytes: Int?
    public let threads: Int

    public var median: Double { seconds.sorted()[seconds.count / 2] }

    public init(name: String, seconds: [Double], peakResidentBytes: Int?, threads: Int) {
        (self.name, self.seconds, self.peakResidentBytes, self.threads) = (name, seconds, peakResidentBytes, threads)
    }

    public static func run(_ name: String, repeats: Int) throws -> ModelBenchmark {
        _ = System.resetPeakResident()
        let call = try ModelCases.make(name)
        try call()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = now()
            try call()
            times.append(now() - start)
        }
        return ModelBenchmark(name: name, seconds: times, peakResidentBytes: System.peakResidentBytes, threads: Parallel.threads)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
