import CKernels
import LDMParallel

/// Group normalisation (Wu & He 2018; PyTorch `nn.GroupNorm`), optionally followed by SiLU.
public enum GroupNorm {
    /// y = (x − μ_g) / √(σ²_g + eps) · γ_c + β_c, then SiLU when `fusedSiLU`.
    /// μ and the biased σ² are taken per sample over each group's C/G channels × spatial positions,
    /// reduced in Float chunks added in Double, in a fixed order (so any thread count gives the same bits).
    /// `statistics` (N = 1 only): use these per-group (mean, variance) instead of x's own — the
    /// whole image's, when x is one tile of it (`GroupNormStatistics`).
    /// The affine step and SiLU run at the CPU's vector width (`SIMDLevel`; the same bits at every level).
    /// - x: [N, C, ...], gamma, beta: [C] → y: same shape as x (y may be x: in place).
    /// Naive twin: `Naive.groupNorm`.
    public static func forward(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, eps: Float,
                               fusedSiLU: Bool = false, statistics: [(mean: Double, variance: Double)]? = nil,
                               into y: Tensor, simd: SIMDLevel = .active) throws(TensorError) {
        let op = "groupNorm"
        guard x.rank >= 2 else { throw .invalidArgument(operation: op, reason: "x \(x.shape) needs [N, C, ...]") }
        let (n, c) = (x.shape[0], x.shape[1])
        guard groups >= 1, c % groups == 0 else {
            throw .invalidArgument(operation: op, reason: "\(c) channels do not split into \(groups) groups")
        }
        try gamma.expect([c], op, "gamma")
        try beta.expect([c], op, "beta")
        try y.expect(x.shape.map { $0 }, op, "output")
        if let statistics, statistics.count != groups || n != 1 {
            throw .invalidArgument(operation: op, reason: "\(statistics.count) given statistics for \(groups) groups of \(n) samples")
        }
        let spatial = x.count / max(1, n * c)
        let perGroup = c / groups
        let groupSize = perGroup * spatial
        let (src, dst, g, b) = (x.data, y.data, gamma.data, beta.data)
        Parallel.forEach(n * groups) { range in
            for index in range {
                let start = index * groupSize
                let mean: Double, variance: Double
                if let statistics {
                    (mean, variance) = statistics[index % groups]
                } else {
                    mean = FastMath.sum(src + start, count: groupSize) / Double(groupSize)
                    // Two-pass variance (deviations from the mean), as accurate as the Double twin.
                    variance = FastMath.sum(src + start, count: groupSize, offset: Float(mean), squared: true) / Double(groupSize)
                }
                let invStd = 1 / (variance + Double(eps)).squareRoot()
                let firstChannel = (index % groups) * perGroup
                for k in 0..<perGroup {
                    let ch = firstChannel + k
                    // y = (x − μ)·(γ/σ) + β. Subtracting μ first (rather than folding it into the
                    // shift, as PyTorch does) avoids cancellation when σ is tiny.
                    let scale = Float(Double(g[ch]) * invStd)
                    let from = src + start + k * spatial, to = dst + start + k * spatial
                    ldm_group_norm_apply(simd.code, from, to, spatial, Float(mean), scale, b[ch], fusedSiLU ? 1 : 0)
                }
            }
        }
    }
}
