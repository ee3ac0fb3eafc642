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

    /// softmax(scale · row), max-subtracted, in place when from == to.
    /// The row's maximum and sum are reduced in a fixed order, independent of threading.
    @inline(__always)
    static func rowSoftmax(_ from: UnsafeMutablePointer<Float>, _ to: UnsafeMutablePointer<Float>, length: Int,
                           scale: Float) {
        typealias V = FastMath.Vector
        var maximum = -Float.infinity
        for i in 0..<length { maximum = max(maximum, from[i]) }
        let shift = maximum * scale
        var sums = SIMD8<Double>()
        var i = 0
        while i + 8 <= length {
            let e = FastMath.exp(UnsafeRawPointer(from + i).loadUnaligned(as: V.self) * scale - shift)
            UnsafeMutableRawPointer(to + i).storeBytes(of: e, as: V.self)
            sums += SIMD8<Double>(e)
            i += 8
        }
        var sum = sums.sum()
        while i < length {
            let e = FastMath.exp(from[i] * scale - shift)
            to[i] = e
            sum += Double(e)
            i += 1
        }
        let inverse = Float(1 / sum)
        for j in 0..<length { to[j] *= inverse }
    }
}
