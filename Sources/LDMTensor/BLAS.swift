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
    nonisolated(unsafe) private static var singleThreaded = false

    /// Tiles smaller than this many FLOPs are not worth a separate call (packing dominates).
    static let minimumTileFlops = 16.0e6
    /// Upper bound on the tiles of one product (bounds the repeated packing of the shared operand).
    static let maximumTiles = 16
    /// Narrowest tile edge: keeps tiles on whole micro-kernel widths.
    static let minimumTileEdge = 32

    /// C[M, N] = alpha · op(A) · op(B) + beta · C, row-major with leading dimensions.
    /// - A: [M, K] (or [K, M] when transposeA), B: [K, N] (or [N, K] when transposeB).
    /// Must not be called from inside `Parallel.forEach`.
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        configureOnce()
        let grid = tiles(m: m, n: n, k: k)
        Parallel.forEach(grid.rows * grid.columns) { range in
            for tile in range {
                let (tr, tc) = (tile / grid.columns, tile % grid.columns)
                let r0 = m * tr / grid.rows, r1 = m * (tr + 1) / grid.rows
                let c0 = n * tc / grid.columns, c1 = n * (tc + 1) / grid.columns
                // Row r of op(A) starts at a + r·lda (plain) or a + r (transposed); likewise columns of op(B).
                let aTile = transposeA ? a + r0 : a + r0 * lda
                let bTile = transposeB ? b + c0 * ldb : b + c0
                cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans, Int32(r1 - r0), Int32(c1 - c0), Int32(k), alpha,
                            aTile, Int32(lda), bTile, Int32(ldb), beta, c + r0 * ldc + c0, Int32(ldc))
            }
        }
    }

    /// The tile grid for an M×N×K product, from the shape only (never from the thread count).
    /// Splitting N repacks A (M·K) once per extra tile, splitting M repacks B (K·N), so the cheaper
    /// dimension is split.
    public static func tiles(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
        let flops = 2 * Double(m) * Double(n) * Double(max(k, 1))
        let wanted = max(1, min(maximumTiles, Int(flops / minimumTileFlops)))
        if m <= n {
            return (1, max(1, min(wanted, n / minimumTileEdge)))
        }
        return (max(1, min(wanted, m / minimumTileEdge)), 1)
    }

    private static func configureOnce() {
        if !singleThreaded {
            openblas_set_num_threads(1)
            singleThreaded = true
        }
    }

    /// OpenBLAS build description (core type, threading), for benchmark reports.
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }
}
