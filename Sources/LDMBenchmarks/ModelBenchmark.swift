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

    /// Seconds each traced layer of a U-Net case took in one call after a warm-up (the time since the previous
    /// trace point), in call order: where a model's time goes, without a profiler. Layers inside a
    /// SpatialTransformer (its blocks) are reported too, so a transformer's own line holds only its
    /// projections out.
    public static func layerTimes(_ name: String) throws -> [(layer: String, seconds: Double)] {
        final class Clock: @unchecked Sendable {
            var last = 0.0
            var times: [(layer: String, seconds: Double)] = []
        }
        let clock = Clock()
        let call = try ModelCases.make(name) { layer, _ in
            let t = now()
            clock.times.append((layer, t - clock.last))
            clock.last = t
        }
        try call()
        clock.times.removeAll()
        clock.last = now()
        try call()
        return clock.times
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
