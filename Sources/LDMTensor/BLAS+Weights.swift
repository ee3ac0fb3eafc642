import LDMParallel

extension BLAS {
    /// Where the weight matrix W [R, K] (row-major, dense) sits in a product.
    public enum WeightSide: Sendable {
        /// C[R, N] = W · B[K, N] (a convolution's weights times its columns).
        case left
        /// C[M, R] = A[M, K] · Wᵀ (a linear layer).
        case rightTransposed
    }

    /// `sgemm` with one operand a weight held as `weight` (16-bit weights widened on the way):
    /// - `.left`: W [m, k] · other [k, n] (other: `ldOther` apart) → c [m, n]
    /// - `.rightTransposed`: other [m, k] · W [n, k]ᵀ → c [m, n]
    ///
    /// When the tile grid of the shape (`tiles`, from the shape alone) splits W's rows — rows of C for `.left`,
    /// columns for `.rightTransposed`: few tokens or pixels against many output features, the 16² and 8² levels of
    /// the SD U-Nets — each tile widens only its own rows of W, into its thread's part of the `weights` scratch, right
    /// before its GEMM reads them from cache. The whole matrix is then never written out as Float32 (for SD 2's
    /// 1280 → 10240 feed-forward, 52 MB a call not streamed through memory). Otherwise, and for Float32 weights, W is
    /// widened whole (`float32(in:)`) and `sgemm` runs. Either way the tiles and their OpenBLAS calls are `sgemm`'s on
    /// the same values, so the result is the same bits (`BLASWeightTests`).
    /// - images: that many products with the same W, `other` and `c` advancing by `otherStride` and `cStride` floats
    ///   each (a batch computed image by image, `Linear.forward`): a tile's rows are widened once for all of them.
    public static func sgemm(weight: WeightTensor, side: WeightSide, m: Int, n: Int, k: Int, other: UnsafePointer<Float>,
                             ldOther: Int, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, images: Int = 1,
                             otherStride: Int = 0, cStride: Int = 0, workspace: Workspace) throws(TensorError) {
        let rows = side == .left ? m : n
        guard weight.count == rows * k else {
            throw .invalidArgument(operation: "sgemm", reason: "weight \(weight.shape) is not [\(rows), \(k)]")
        }
        guard m > 0, n > 0 else { return }
        let grid = tiles(m: m, n: n, k: k)
        let parts = side == .left ? grid.rows : grid.columns
        guard parts > 1, weight.precision != .float32 else {
            let w = try weight.float32(in: workspace)
            for image in 0..<images {
                let (b, y) = (other + image * otherStride, c + image * cStride)
                switch side {
                case .left: sgemm(m: m, n: n, k: k, a: w.data, lda: k, b: b, ldb: ldOther, beta: beta, c: y, ldc: ldc)
                case .rightTransposed:
                    sgemm(transposeB: true, m: m, n: n, k: k, a: b, lda: ldOther, b: w.data, ldb: k, beta: beta, c: y, ldc: ldc)
                }
            }
            return
        }
        let widest = (rows + parts - 1) / parts + 1  // a tile's rows, rows·t/parts ..< rows·(t+1)/parts
        let scratch = try workspace.scratch(.weights, count: Parallel.chunkCount(parts) * widest * k)
        Parallel.forEachChunk(parts) { chunk, range in
            let block = scratch + chunk * widest * k
            for tile in range {
                let r0 = rows * tile / parts, r1 = rows * (tile + 1) / parts
                weight.widen(elements: r0 * k ..< r1 * k, into: block, parallel: false)
                for image in 0..<images {
                    let (b, y) = (other + image * otherStride, c + image * cStride)
                    switch side {
                    case .left:
                        serialSgemm(m: r1 - r0, n: n, k: k, a: block, lda: k, b: b, ldb: ldOther, beta: beta, c: y + r0 * ldc, ldc: ldc)
                    case .rightTransposed:
                        serialSgemm(transposeB: true, m: m, n: r1 - r0, k: k, a: b, lda: ldOther, b: block, ldb: k, beta: beta,
                                    c: y + r0, ldc: ldc)
                    }
                }
            }
        }
    }
}
