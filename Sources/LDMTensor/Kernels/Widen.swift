import CKernels
import LDMParallel

/// 16-bit floats (IEEE half, bfloat16) widened to Float32. Exact: finite values, ±0, subnormals and
/// ±Inf keep their value; a half NaN keeps its sign and payload and is made quiet (as VCVTPH2PS).
/// Naive twins: `Naive.widenFloat16`, `Naive.widenBFloat16`.
public enum Widen {
    /// Elements per parallel chunk: large enough that a chunk's call costs more than its dispatch.
    static let chunk = 1 << 16

    /// - x: [count] half bits → y: [count]. `simd`: the vector width (the same bits at every level).
    /// `parallel: false` runs on the calling thread only (inside a `Parallel.forEach` body).
    public static func float16(_ x: UnsafePointer<UInt16>, into y: UnsafeMutablePointer<Float>, count: Int,
                               simd: SIMDLevel = .active, parallel: Bool = true) {
        guard parallel else { return ldm_widen_f16(simd.code, x, y, count) }
        Parallel.forEach((count + chunk - 1) / chunk) { chunks in
            let start = chunks.lowerBound * chunk, end = min(count, chunks.upperBound * chunk)
            ldm_widen_f16(simd.code, x + start, y + start, end - start)
        }
    }

    /// - x: [count] bfloat16 bits → y: [count]
    public static func bfloat16(_ x: UnsafePointer<UInt16>, into y: UnsafeMutablePointer<Float>, count: Int,
                                parallel: Bool = true) {
        guard parallel else { return ldm_widen_bf16(x, y, count) }
        Parallel.forEach((count + chunk - 1) / chunk) { chunks in
            let start = chunks.lowerBound * chunk, end = min(count, chunks.upperBound * chunk)
            ldm_widen_bf16(x + start, y + start, end - start)
        }
    }
}
