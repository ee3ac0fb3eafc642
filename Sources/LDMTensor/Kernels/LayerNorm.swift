import LDMParallel

/// `nn.LayerNorm` over the last dimension (the transformer blocks' norm1/2/3, CLIP's layer norms).
public enum LayerNorm {
    /// y[r, :] = (x[r, :] − mean_r) / √(var_r + eps) · gamma + beta, biased variance as PyTorch.
    /// Statistics in Double per row (a fixed order, independent of the thread split).
    /// - x: [..., C], gamma, beta: [C] → y: same shape as x (y may be x). Naive twin: `Naive.layerNorm`.
    public static func forward(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, into y: Tensor) throws(TensorError) {
        guard x.rank >= 1, let c = x.shape.last, c >= 1 else {
            throw .invalidArgument(operation: "layerNorm", reason: "x \(x.shape) has no feature dimension")
        }
        try gamma.expect([c], "layerNorm", "gamma")
        try beta.expect([c], "layerNorm", "beta")
        try y.expect(x.shape.map { $0 }, "layerNorm", "output")
        let rows = x.count / c
        let (src, dst, g, b) = (x.data, y.data, gamma.data, beta.data)
        Parallel.forEach(rows, minimumChunk: max(1, 16384 / c)) { range in
            for r in range {
                let row = src + r * c, out = dst + r * c
                var sum = 0.0
                for i in 0..<c { sum += Double(row[i]) }
                let mean = sum / Double(c)
                var squares = 0.0
                for i in 0..<c {
                    let delta = Double(row[i]) - mean
                    squares += delta * delta
                }
                let inverse = Float(1 / (squares / Double(c) + Double(eps)).squareRoot())
                let m = Float(mean)
                for i in 0..<c { out[i] = (row[i] - m) * inverse * g[i] + b[i] }
            }
        }
    }
}
