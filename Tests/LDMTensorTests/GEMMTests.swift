import LDMTensor
import LDMTestSupport
import Testing

@Suite struct GEMMTests {
    /// Plain triple loop in Double: C = op(A)·op(B).
    static func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, ta: Bool, tb: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j]) }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    /// Shapes that produce 1 tile, column tiles (M ≤ N) and row tiles (M > N), with ragged edges.
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (64, 1000, 300), (700, 40, 500), (33, 129, 1025)],
          [(false, false), (true, false), (false, true), (true, true)])
    func tiledProductMatchesTwin(_ shape: (Int, Int, Int), _ transposes: (Bool, Bool)) throws {
        let (m, n, k) = shape
        let (ta, tb) = transposes
        let a = testValues(m * k, seed: 60), b = testValues(k * n, seed: 61)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: ta ? m : k,
                               b: pb.baseAddress!, ldb: tb ? k : n, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        let expected = Self.naive(a, b, m: m, n: n, k: k, ta: ta, tb: tb)
        let cmp = Comparison(c, expected)
        // Float32 dot products of length K against Double: ~√K·ε relative; 1e-5 of the magnitude.
        #expect(cmp.maxAbs <= 1e-5 * magnitude(expected), "\(cmp)")
    }

    @Test func tileGridDependsOnlyOnShape() {
        #expect(BLAS.tiles(m: 1, n: 1, k: 1) == (1, 1))
        #expect(BLAS.tiles(m: 320, n: 4096, k: 2880).columns == 8)
        #expect(BLAS.tiles(m: 640, n: 256, k: 5760).rows > 1)
        let grid = withThreads(1) { BLAS.tiles(m: 64, n: 1000, k: 300) }
        #expect(withThreads(2) { BLAS.tiles(m: 64, n: 1000, k: 300) } == grid)
    }

    @Test func sameBitsForOneAndTwoThreads() {
        // Large enough for several tiles (113 MFLOP → 4), so two threads really share the work.
        let (m, n, k) = (48, 2047, 576)
        let a = testValues(m * k, seed: 62), b = testValues(k * n, seed: 63)
        let results = [1, 2].map { threads in
            let (c, observed) = withObservedThreads(threads) {
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                               c: pc.baseAddress!, ldc: n)
                } } }
                return c
            }
            #expect(observed == threads, "threads observed inside the GEMM's tile loop")
            return c
        }
        #expect(mismatches(results[0], results[1]) == 0)
    }
}
