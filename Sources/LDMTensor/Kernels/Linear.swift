/// Fully connected layer, PyTorch `nn.Linear` (y = x·Wᵀ + b).
public enum Linear {
    /// - x: [N, In], weight: [Out, In], bias: [Out] → y: [N, Out]
    /// - images: the rows form this many images of N / images rows each (token-major [images·T, In]); each image is
    ///   its own product, so an image's result does not depend on what else is in the batch. (OpenBLAS's Haswell/Zen
    ///   sgemm gives a row different bits depending on how the call's M is blocked: the same 4096 rows computed
    ///   alone and as the first half of 8192 rows differ in their last 4; Scripts/bench/gemm_rows.c.)
    /// Naive twin: `Naive.linear`.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: Tensor, images: Int = 1) throws(TensorError) {
        let rows = try prepare(x, weightShape: weight.shape, bias: bias, into: y, images: images)
        let (inputs, outputs) = (x.shape[1], weight.shape[0])
        for image in 0..<images {
            BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x.data + image * rows * inputs, lda: inputs,
                       b: weight.data, ldb: inputs, beta: bias == nil ? 0 : 1, c: y.data + image * rows * outputs, ldc: outputs)
        }
    }

    /// The same product with the weight as held (`WeightTensor`): 16-bit weights are widened per GEMM tile where the
    /// tiles split the output features (`BLAS.sgemm(weight:…)`), else whole; the same bits as `forward` on the
    /// widened weight. - x: [N, In], weight: [Out, In], bias: [Out] → y: [N, Out]
    public static func forward(_ x: Tensor, weight: WeightTensor, bias: Tensor?, into y: Tensor, images: Int = 1,
                               workspace: Workspace) throws(TensorError) {
        let rows = try prepare(x, weightShape: weight.shape, bias: bias, into: y, images: images)
        let (inputs, outputs) = (x.shape[1], weight.shape[0])
        try BLAS.sgemm(weight: weight, side: .rightTransposed, m: rows, n: outputs, k: inputs, other: x.data, ldOther: inputs,
                       beta: bias == nil ? 0 : 1, c: y.data, ldc: outputs, images: images, otherStride: rows * inputs,
                       cStride: rows * outputs, workspace: workspace)
    }

    /// Checks the shapes, fills y with the bias (the GEMMs then add onto it, beta = 1) and returns the rows per image.
    private static func prepare(_ x: Tensor, weightShape: [Int], bias: Tensor?, into y: Tensor, images: Int) throws(TensorError) -> Int {
        let op = "linear"
        guard x.rank == 2, weightShape.count == 2 else {
            throw .invalidArgument(operation: op, reason: "x \(x.shape) and weight \(weightShape) must be 2-D")
        }
        let (n, inputs, outputs) = (x.shape[0], x.shape[1], weightShape[0])
        try Tensor.expect(weightShape, [outputs, inputs], op, "weight")
        if let bias { try bias.expect([outputs], op, "bias") }
        try y.expect([n, outputs], op, "output")
        guard images >= 1, n % images == 0 else {
            throw .invalidArgument(operation: op, reason: "\(n) rows do not split into \(images) images")
        }
        if let bias {
            for row in 0..<n { (y.data + row * outputs).update(from: bias.data, count: outputs) }
        }
        return n / images
    }
}
