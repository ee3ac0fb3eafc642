/// Fully connected layer, PyTorch `nn.Linear` (y = x·Wᵀ + b).
public enum Linear {
    /// - x: [N, In], weight: [Out, In], bias: [Out] → y: [N, Out]
    /// - images: the rows form this many images of N / images rows each (token-major [images·T, In]); each image is
    ///   its own product, so an image's result does not depend on what else is in the batch. (OpenBLAS's Haswell/Zen
    ///   sgemm gives a row different bits depending on how the call's M is blocked: the same 4096 rows computed
    ///   alone and as the first half of 8192 rows differ in their last 4; Scripts/bench/gemm_rows.c.)
    /// Naive twin: `Naive.linear`.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: Tensor, images: Int = 1) throws(TensorError) {
        let op = "linear"
        guard x.rank == 2, weight.rank == 2 else {
            throw .invalidArgument(operation: op, reason: "x \(x.shape) and weight \(weight.shape) must be 2-D")
        }
        let (n, inputs, outputs) = (x.shape[0], x.shape[1], weight.shape[0])
        try weight.expect([outputs, inputs], op, "weight")
        if let bias { try bias.expect([outputs], op, "bias") }
        try y.expect([n, outputs], op, "output")
        guard images >= 1, n % images == 0 else {
            throw .invalidArgument(operation: op, reason: "\(n) rows do not split into \(images) images")
        }
        if let bias {
            for row in 0..<n { (y.data + row * outputs).update(from: bias.data, count: outputs) }
        }
        let rows = n / images
        for image in 0..<images {
            BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x.data + image * rows * inputs, lda: inputs,
                       b: weight.data, ldb: inputs, beta: bias == nil ? 0 : 1, c: y.data + image * rows * outputs, ldc: outputs)
        }
    }
}
