import CBLAS
import LDMParallel

/// Row-major single-precision GEMM on OpenBLAS, the only way this module reaches BLAS.
///
/// OpenBLAS's own threading gives results that depend on the thread count (measured with 0.3.21:
/// 5–25 % of the elements of a 1- vs 2-thread sgemm differ in the last bits). So OpenBLAS always
/// runs single-threaded, and `sgemm` splits the product into a grid of tiles chosen from the problem
/// shape alone, which `Parallel.forEach` spreads over the threads. Each tile is the same
/// single-threaded call whatever the thread count, hence bitwise identical results.
public enum BLAS {
    /// Tiles smaller than this many FLOPs are not worth a separate call (packing dominates).
    static let minimumTileFlops = 24.0e6
    /// Upper bound on the tiles of one product (bounds the repeated packing of the shared operand).
    static let maximumTiles = 8
    /// Narrowest tile edges: wide enough that repacking the shared operand stays a small cost.
    static let minimumTileColumns = 256, minimumTileRows = 128

    /// C[M, N] = alpha · op(A) · op(B) + beta · C, row-major with leading dimensions.
    /// - A: [M, K] (or [K, M] when transposeA), B: [K, N] (or [N, K] when transposeB).
    /// Must not be called from inside `Parallel.forEach`.
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let grid = tiles(m: m, n: n, k: k)
        Parallel.forEach(grid.rows * grid.columns) { range in
            for tile in range {
                let (tr, tc) = (tile / grid.columns, tile % grid.columns)
                let r0 = m * tr / grid.rows, r1 = m * (tr + 1) / grid.rows
                let c0 = n * tc / grid.columns, c1 = n * (tc + 1) / grid.columns
                // Row r of op(A) starts at a + r·lda (plain) or a + r (transposed); likewise columns of op(B).
                let aTile = transposeA ? a + r0 : a + r0 * lda
                let bTile = transposeB ? b + c0 * ldb : b + c0
                serialSgemm(transposeA: transposeA, transposeB: transposeB, m: r1 - r0, n: c1 - c0, k: k, alpha: alpha,
                            a: aTile, lda: lda, b: bTile, ldb: ldb, beta: beta, c: c + r0 * ldc + c0, ldc: ldc)
            }
        }
    }

    /// One single-threaded OpenBLAS call, for use inside `Parallel.forEach` bodies (kernels that
    /// parallelise over independent products themselves, such as conv2d's bands).
    public static func serialSgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                   b: UnsafePointer<Float>, ldb: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        configureOnce()
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The tile grid for an M×N×K product, from the shape only (never from the thread count).
    /// Splitting N repacks A (M·K) once per extra tile, splitting M repacks B (K·N), so the cheaper
    /// dimension is split.
    public static func tiles(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
        let flops = 2 * Double(m) * Double(n) * Double(max(k, 1))
        let wanted = max(1, min(maximumTiles, Int(flops / minimumTileFlops)))
        // A power of two, so the tiles share out evenly over 1, 2, 4 or 8 threads.
        func evenly(_ limit: Int) -> Int {
            var t = 1
            while t * 2 <= min(wanted, limit) { t *= 2 }
            return t
        }
        if m <= n { return (1, evenly(n / minimumTileColumns)) }
        return (evenly(m / minimumTileRows), 1)
    }

    /// OpenBLAS's own pool stays at one thread; a lazily initialised static runs exactly once,
    /// thread-safely, before the first GEMM.
    private static let singleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    @inline(__always)
    private static func configureOnce() { _ = singleThreaded }

    /// OpenBLAS build description (core type, threading), for benchmark reports.
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }
}
