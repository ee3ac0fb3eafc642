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
        let shift = FastMath.maximum(from, count: length) * scale
        var i = 0
        while i + 8 <= length {
            FastMath.store(FastMath.exp(FastMath.load(from + i) * scale - shift), to + i)
            i += 8
        }
        while i < length {
            to[i] = FastMath.exp(from[i] * scale - shift)
            i += 1
        }
        let inverse = Float(1 / FastMath.sum(to, count: length))
        for j in 0..<length { to[j] *= inverse }
    }
}
