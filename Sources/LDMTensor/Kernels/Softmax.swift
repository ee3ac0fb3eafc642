import CKernels
import LDMParallel

/// Softmax over the last dimension.
public enum Softmax {
    /// - x: [..., L] → y: same shape (y may be x). Naive twin: `Naive.softmax`.
    public static func forward(_ x: Tensor, into y: Tensor) throws(TensorError) {
        guard let length = x.shape.last, length > 0 else {
            throw .invalidArgument(operation: "softmax", reason: "x \(x.shape) needs a non-empty last dimension")
        }
        try y.expect(x.shape.map { $0 }, "softmax", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.count / length, minimumChunk: max(1, 4096 / length)) { rows in
            for row in rows { rowSoftmax(src + row * length, dst + row * length, length: length, scale: 1) }
        }
    }

    /// softmax(scale · row), max-subtracted, in place when from == to: the exponent pass
    /// (`exponentiate`) then the division.
    @inline(__always)
    static func rowSoftmax(_ from: UnsafeMutablePointer<Float>, _ to: UnsafeMutablePointer<Float>, length: Int,
                           scale: Float, simd: SIMDLevel = .active) {
        if from != to { to.update(from: from, count: length) }
        let inverse = exponentiate(to, length: length, scale: scale, simd: simd)
        ldm_scale(simd.code, to, to, length, inverse)
    }

    /// row ← e^(scale · row − max(scale · row)) in place, returning 1 / Σ of the result, so a caller can
    /// divide after a product that shrinks the row (attention: the 40-wide output row instead of the
    /// 4096 scores). The sum runs in a fixed order, independent of threading and vector width
    /// (`ldm_softmax_exp`). - row: [length], length ≥ 1.
    @inline(__always)
    static func exponentiate(_ row: UnsafeMutablePointer<Float>, length: Int, scale: Float, simd: SIMDLevel = .active) -> Float {
        Float(1 / ldm_softmax_exp(simd.code, row, length, scale))
    }
}
