import LDMParallel

/// Winograd F(2×2, 3×3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
/// Networks", 2016) for 3×3, stride-1, padding-1 layers — most of the U-Net's and the VQ decoder's
/// FLOPs. Each 2×2 output tile needs 16 multiply-adds per (input, output) channel pair instead of
/// 36: the 16 "frequency" products become 16 GEMMs of [O, C] × [C, tiles], done by OpenBLAS.
///
/// Transforms (the paper's, exact in real arithmetic; in float32 the error is a few ulp of the
/// operands' magnitude, measured against the naive twin in Conv2dTests):
///   V = Bᵀ d B  (4×4 input patch d),  U = G g Gᵀ  (3×3 kernel g),  Y = Aᵀ (U ⊙ V) A  (2×2 output)
///   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///   Aᵀ = [1 1 1 0; 0 1 −1 −1].
enum Winograd {
    /// Floats of scratch per thread (16 MiB, like the im2col bands).
    static let budget = 4 << 20

    /// U for every (o, c): [O, C, 3, 3] → [16, O, C] (ξ-major: one [O, C] matrix per position).
    static func transformWeights(_ weight: UnsafePointer<Float>, o: Int, c: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = o * c
        Parallel.forEach(o) { range in
            for oc in (range.lowerBound * c)..<(range.upperBound * c) {
                let g = weight + oc * 9
                // Columns of t = G g (4×3) as SIMD4 over G's rows, then U = t Gᵀ row by row.
                var t = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                for j in 0..<3 {
                    let (g0, g1, g2) = (g[j], g[3 + j], g[6 + j])
                    let column = SIMD4<Float>(g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                    if j == 0 { t.0 = column } else if j == 1 { t.1 = column } else { t.2 = column }
                }
                let (a, b, d) = t
                let u0 = a, u1 = 0.5 * (a + b + d), u2 = 0.5 * (a - b + d), u3 = d
                for i in 0..<4 {
                    u[(4 * i) * plane + oc] = u0[i]
                    u[(4 * i + 1) * plane + oc] = u1[i]
                    u[(4 * i + 2) * plane + oc] = u2[i]
                    u[(4 * i + 3) * plane + oc] = u3[i]
                }
            }
        }
    }

    /// Tile rows per band so that one band's V ([16, C, T]) and M ([16, O, T]) fit the budget.
    static func tileRowsPerBand(c: Int, o: Int, tileColumns: Int) -> Int {
        max(1, budget / max(1, 16 * (c + o) * tileColumns))
    }

    /// y = conv3x3(x, g, padding 1) + bias, from transformed weights u ([16, O, C]).
    /// - x: [C, H, W] (one image), y: [O, H, W]. Bands of tile rows run in parallel, each with its
    ///   own scratch and serial GEMMs, so the result does not depend on the thread count.
    static func forward(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, u: UnsafePointer<Float>, o: Int,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        rowsPerBand: Int) {
        let (th, tw) = ((h + 1) / 2, (w + 1) / 2)
        let bands = (th + rowsPerBand - 1) / rowsPerBand
        let bandTiles = rowsPerBand * tw
        let perChunk = 16 * (c + o) * bandTiles
        Parallel.forEachChunk(bands) { chunk, range in
            let v = scratch + chunk * perChunk
            let m = v + 16 * c * bandTiles
            for band in range {
                let firstRow = band * rowsPerBand, rows = min(rowsPerBand, th - firstRow)
                let tiles = rows * tw
                inputTransform(x, c: c, h: h, w: w, tileRows: firstRow..<(firstRow + rows), tileColumns: tw, into: v, ld: tiles)
                for xi in 0..<16 {
                    BLAS.serialSgemm(m: o, n: tiles, k: c, a: u + xi * o * c, lda: c, b: v + xi * c * tiles, ldb: tiles,
                                     c: m + xi * o * tiles, ldc: tiles)
                }
                outputTransform(m, o: o, h: h, w: w, tileRows: firstRow..<(firstRow + rows), tileColumns: tw, ld: tiles,
                                bias: bias, into: y)
            }
        }
    }

    /// V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4×4 patch d of each tile t (zero outside the image).
    private static func inputTransform(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, tileRows: Range<Int>, tileColumns tw: Int,
                                       into v: UnsafeMutablePointer<Float>, ld tiles: Int) {
        let plane = c * tiles
        for ch in 0..<c {
            let src = x + ch * h * w
            for (r, ty) in tileRows.enumerated() {
                let y0 = 2 * ty - 1
                for tx in 0..<tw {
                    let x0 = 2 * tx - 1
                    @inline(__always) func row(_ i: Int) -> SIMD4<Float> {
                        let y = y0 + i
                        guard y >= 0, y < h else { return SIMD4() }
                        let p = src + y * w
                        if x0 >= 0, x0 + 3 < w { return UnsafeRawPointer(p + x0).loadUnaligned(as: SIMD4<Float>.self) }
                        var out = SIMD4<Float>()
                        for j in 0..<4 where x0 + j >= 0 && x0 + j < w { out[j] = p[x0 + j] }
                        return out
                    }
                    let (d0, d1, d2, d3) = (row(0), row(1), row(2), row(3))
                    // t = Bᵀ d (rows), then V = t B (columns).
                    let t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
                    let base = v + ch * tiles + r * tw + tx
                    @inline(__always) func put(_ i: Int, _ t: SIMD4<Float>) {
                        base[(4 * i) * plane] = t[0] - t[2]
                        base[(4 * i + 1) * plane] = t[1] + t[2]
                        base[(4 * i + 2) * plane] = t[2] - t[1]
                        base[(4 * i + 3) * plane] = t[1] - t[3]
                    }
                    put(0, t0)
                    put(1, t1)
                    put(2, t2)
                    put(3, t3)
                }
            }
        }
    }

    /// y's 2×2 tiles = Aᵀ M A (+ bias), cropped at the image's edge.
    private static func outputTransform(_ m: UnsafePointer<Float>, o: Int, h: Int, w: Int, tileRows: Range<Int>, tileColumns tw: Int,
                                        ld tiles: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let plane = o * tiles
        for oc in 0..<o {
            let b = bias?[oc] ?? 0
            let dst = y + oc * h * w
            for (r, ty) in tileRows.enumerated() {
                for tx in 0..<tw {
                    let base = m + oc * tiles + r * tw + tx
                    @inline(__always) func row(_ i: Int) -> SIMD4<Float> {
                        SIMD4(base[(4 * i) * plane], base[(4 * i + 1) * plane], base[(4 * i + 2) * plane], base[(4 * i + 3) * plane])
                    }
                    let (s0, s1, s2, s3) = (row(0), row(1), row(2), row(3))
                    // t = Aᵀ s (2 rows), then Y = t A.
                    let t0 = s0 + s1 + s2, t1 = s1 - s2 - s3
                    let (oy, ox) = (2 * ty, 2 * tx)
                    let out0 = dst + oy * w
                    out0[ox] = t0[0] + t0[1] + t0[2] + b
                    if ox + 1 < w { out0[ox + 1] = t0[1] - t0[2] - t0[3] + b }
                    if oy + 1 < h {
                        let out1 = out0 + w
                        out1[ox] = t1[0] + t1[1] + t1[2] + b
                        if ox + 1 < w { out1[ox + 1] = t1[1] - t1[2] - t1[3] + b }
                    }
                }
            }
        }
    }
}
