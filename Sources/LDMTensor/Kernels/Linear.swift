/// Fully connected layer, PyTorch `nn.Linear` (y = x·Wᵀ + b).
public enum Linear {
    /// - x: [N, In], weight: [Out, In], bias: [Out] → y: [N, Out]
    /// Naive twin: `Naive.linear`.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: Tensor) throws(TensorError) {
        let op = "linear"
        guard x.rank == 2, weight.rank == 2 else {
            throw .invalidArgument(operation: op, reason: "x \(x.shape) and weight \(weight.shape) must be 2-D")
        }
        let (n, inputs, outputs) = (x.shape[0], x.shape[1], weight.shape[0])
        try weight.expect([outputs, inputs], op, "weight")
        if let bias { try bias.expect([outputs], op, "bias") }
        try y.expect([n, outputs], op, "output")
        if let bias {
            for row in 0..<n { (y.data + row * outputs).update(from: bias.data, count: outputs) }
        }
        BLAS.sgemm(transposeB: true, m: n, n: outputs, k: inputs, a: x.data, lda: inputs, b: weight.data, ldb: inputs,
                   beta: bias == nil ? 0 : 1, c: y.data, ldc: outputs)
    }
}
