import LDMParallel

/// Winograd F(4×4, 3×3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
/// Networks", 2016) for 3×3, stride-1, padding-1 layers — most of the U-Net's and the VQ decoder's
/// FLOPs. Each 4×4 output tile needs 36 multiply-adds per (input, output) channel pair instead of
/// 144 (4× fewer): the 36 "frequency" products become 36 GEMMs of [O, C] × [C, tiles] (OpenBLAS).
///
/// Transforms (the paper's, interpolation points 0, ±1, ±2, ∞; exact in real arithmetic, in float32
/// a few ulp of the operands' magnitude times the transforms' constants — measured against the
/// naive twin in Conv2dTests and against PyTorch in the parity tests):
///   V = Bᵀ d B  (6×6 input patch d),  U = G g Gᵀ  (3×3 kernel g),  Y = Aᵀ (U ⊙ V) A  (4×4 output)
///   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
///   G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]
///   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
/// The transforms run on 8 neighbouring tiles at once (one SIMD lane per tile).
enum Winograd {
    /// Transform positions ξ (6×6).
    static let positions = 36
    /// Floats of scratch for one band (padded input, V and M), 32 MiB: of 1, 4, 8, 16 and 32 MiB,
    /// 32 was fastest on the 2-core machine (bigger GEMMs beat keeping V in cache; docs/performance.md).
    static let budget = 8 << 20

    typealias Lanes = SIMD8<Float>

    /// (o, c) pairs transformed into a local block before it is copied out plane by plane: 36
    /// sequential copies instead of 36 interleaved write streams (the scattered version took a
    /// fifth of a 64² SR U-Net call).
    static let weightBlock = 128

    /// U for every (o, c): [O, C, 3, 3] → [36, O, C] (ξ-major: one [O, C] matrix per position).
    static func transformWeights(_ weight: UnsafePointer<Float>, o: Int, c: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = o * c
        let blocks = (plane + weightBlock - 1) / weightBlock
        Parallel.forEach(blocks) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: positions * weightBlock) { local in
                let block = local.baseAddress!
                for b in range {
                    let first = b * weightBlock, count = min(weightBlock, plane - first)
                    for k in 0..<count {
                        let g = weight + (first + k) * 9
                        // t_b = G·(column b of g), lane i = row i of G g; then column j of U = (G g) Gᵀ
                        // is G's row j applied to (t_0, t_1, t_2).
                        let (t0, t1, t2) = (gColumn(g[0], g[3], g[6]), gColumn(g[1], g[4], g[7]), gColumn(g[2], g[5], g[8]))
                        let columns = gColumn(t0, t1, t2)
                        for i in 0..<6 {
                            let row = block + 6 * i * weightBlock + k
                            row[0] = columns.0[i]
                            row[weightBlock] = columns.1[i]
                            row[2 * weightBlock] = columns.2[i]
                            row[3 * weightBlock] = columns.3[i]
                            row[4 * weightBlock] = columns.4[i]
                            row[5 * weightBlock] = columns.5[i]
                        }
                    }
                    for xi in 0..<positions {
                        (u + xi * plane + first).update(from: block + xi * weightBlock, count: count)
                    }
                }
            }
        }
    }

    /// G's rows applied to (t0, t1, t2) lane-wise: the six columns of t Gᵀ.
    @inline(__always) private static func gColumn(_ t0: Lanes, _ t1: Lanes, _ t2: Lanes) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
        let sum02: Lanes = t0 + t2
        let a: Lanes = t0 * (1 / 24 as Float) + t2 * (1 / 6 as Float)
        let b: Lanes = t1 * (1 / 12 as Float)
        let u1: Lanes = (sum02 + t1) * (-1 / 6 as Float)
        let u2: Lanes = (sum02 - t1) * (-1 / 6 as Float)
        return (t0 * (0.25 as Float), u1, u2, a + b, a - b, t2)
    }

    /// G·(g0, g1, g2) in lanes 0–5.
    @inline(__always) private static func gColumn(_ g0: Float, _ g1: Float, _ g2: Float) -> Lanes {
        let a: Float = g0 * (1 / 24) + g2 * (1 / 6), b: Float = g1 * (1 / 12)
        let u1: Float = (g0 + g1 + g2) * (-1 / 6), u2: Float = (g0 - g1 + g2) * (-1 / 6)
        return Lanes(g0 * 0.25, u1, u2, a + b, a - b, g2, 0, 0)
    }

    /// Geometry of one layer's tiling.
    struct Shape {
        let c, h, w, o: Int
        var tileRows: Int { (h + 3) / 4 }
        var tileColumns: Int { (w + 3) / 4 }
        /// Tile columns rounded up to whole groups of 8 lanes.
        var paddedTileColumns: Int { (tileColumns + 7) / 8 * 8 }
        /// Width of the zero-padded input rows: one column left, the rest right.
        var paddedWidth: Int { 4 * paddedTileColumns + 2 }

        /// Scratch floats for bands of `rows` tile rows: padded input, V [36, C, T], M [36, O, T].
        func scratchCount(rowsPerBand rows: Int) -> Int {
            c * (4 * rows + 2) * paddedWidth + Winograd.positions * (c + o) * rows * tileColumns + 8
        }
    }

    /// Tile rows per band so that one band's scratch fits the budget (at least one row).
    static func tileRowsPerBand(c: Int, o: Int, h: Int, w: Int) -> Int {
        let shape = Shape(c: c, h: h, w: w, o: o)
        let perRow = positions * (c + o) * shape.tileColumns + 4 * c * shape.paddedWidth
        let fixed = 2 * c * shape.paddedWidth + 8
        return max(1, min(shape.tileRows, (budget - fixed) / max(1, perRow)))
    }

    /// y = conv3x3(x, g, padding 1) + bias, from transformed weights u ([36, O, C]).
    /// - x: [C, H, W] (one image), y: [O, H, W]. Bands of tile rows run one after another; within a
    ///   band the input transform is split over channels, the 36 GEMMs over threads (each GEMM
    ///   serial) and the output transform over output channels, so the result does not depend on
    ///   the thread count.
    static func forward(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, u: UnsafePointer<Float>, o: Int,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        rowsPerBand: Int) {
        let shape = Shape(c: c, h: h, w: w, o: o)
        let (th, tw, wp) = (shape.tileRows, shape.tileColumns, shape.paddedWidth)
        let paddedRows = 4 * rowsPerBand + 2
        let padded = scratch
        let v = padded + c * paddedRows * wp
        let m = v + positions * c * rowsPerBand * tw
        for firstRow in stride(from: 0, to: th, by: rowsPerBand) {
            let rows = min(rowsPerBand, th - firstRow), tiles = rows * tw
            Parallel.forEach(c) { channels in
                withUnsafeTemporaryAllocation(of: Lanes.self, capacity: positions + 6) { rowTransformed in
                    for ch in channels {
                        let p = padded + ch * paddedRows * wp
                        pad(x + ch * h * w, h: h, w: w, firstInputRow: 4 * firstRow - 1, rows: 4 * rows + 2, into: p, width: wp)
                        inputTransform(p, width: wp, tileRows: rows, tileColumns: tw, into: v + ch * tiles,
                                       plane: c * tiles, scratch: rowTransformed.baseAddress!)
                    }
                }
            }
            Parallel.forEach(positions) { range in
                for xi in range {
                    BLAS.serialSgemm(m: o, n: tiles, k: c, a: u + xi * o * c, lda: c, b: v + xi * c * tiles, ldb: tiles,
                                     c: m + xi * o * tiles, ldc: tiles)
                }
            }
            Parallel.forEach(o) { channels in
                withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 24) { columnTransformed in
                    for oc in channels {
                        outputTransform(m + oc * tiles, plane: o * tiles, tileRows: rows, tileColumns: tw,
                                        bias: bias?[oc] ?? 0, into: y + oc * h * w + 4 * firstRow * w, h: h - 4 * firstRow, w: w,
                                        scratch: columnTransformed.baseAddress!)
                    }
                }
            }
        }
    }

    /// Copies input rows firstInputRow ..< firstInputRow + rows (zero outside the image) into rows of
    /// `width` floats, the image's column 0 at column 1.
    private static func pad(_ src: UnsafePointer<Float>, h: Int, w: Int, firstInputRow: Int, rows: Int,
                            into dst: UnsafeMutablePointer<Float>, width: Int) {
        for r in 0..<rows {
            let row = dst + r * width
            let y = firstInputRow + r
            guard y >= 0, y < h else {
                row.update(repeating: 0, count: width)
                continue
            }
            row[0] = 0
            (row + 1).update(from: src + y * w, count: w)
            (row + 1 + w).update(repeating: 0, count: width - 1 - w)
        }
    }

    /// d·B on one row's 6 values (the same combinations as Bᵀ·d on a column).
    @inline(__always) private static func bTransform(_ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes, _ d4: Lanes, _ d5: Lanes,
                                                     into out: UnsafeMutablePointer<Lanes>) {
        out[0] = 4 * d0 - 5 * d2 + d4
        out[1] = d3 + d4 - 4 * (d1 + d2)
        out[2] = 4 * (d1 - d2) + d4 - d3
        out[3] = 2 * (d3 - d1) + d4 - d2
        out[4] = 2 * (d1 - d3) + d4 - d2
        out[5] = 4 * d1 - 5 * d3 + d5
    }

    /// V[ξ][t] = (Bᵀ d B)[ξ] for the 6×6 patch d of each tile t of one channel's padded rows.
    /// - padded: [4·rows + 2, width] → v: ξ-planes `plane` apart, tiles contiguous.
    private static func inputTransform(_ padded: UnsafePointer<Float>, width: Int, tileRows: Int, tileColumns tw: Int,
                                       into v: UnsafeMutablePointer<Float>, plane: Int, scratch t: UnsafeMutablePointer<Lanes>) {  // 42 lanes
        for r in 0..<tileRows {
            for group in stride(from: 0, to: tw, by: 8) {
                let lanes = min(8, tw - group)
                // Rows: t[i][j'] = (d B)[i][j'], lane k = tile group + k (input columns 4k + j).
                for i in 0..<6 {
                    let p = padded + (4 * r + i) * width + 4 * group
                    @inline(__always) func column(_ j: Int) -> Lanes {
                        Lanes(p[j], p[j + 4], p[j + 8], p[j + 12], p[j + 16], p[j + 20], p[j + 24], p[j + 28])
                    }
                    bTransform(column(0), column(1), column(2), column(3), column(4), column(5), into: t + 6 * i)
                }
                // Columns: V[i'][j'] = Bᵀ over i of t[i][j'], stored to 36 ξ-planes.
                let base = v + r * tw + group
                for j in 0..<6 {
                    let out = t + 36
                    bTransform(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j], into: out)
                    for i in 0..<6 { store(out[i], to: base + (6 * i + j) * plane, lanes: lanes) }
                }
            }
        }
    }

    @inline(__always) private static func store(_ value: Lanes, to p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: value, as: Lanes.self)
        } else {
            for k in 0..<lanes { p[k] = value[k] }
        }
    }

    /// Aᵀ·(m0 … m5).
    @inline(__always) private static func aTransform(_ m0: Lanes, _ m1: Lanes, _ m2: Lanes, _ m3: Lanes, _ m4: Lanes, _ m5: Lanes)
        -> (Lanes, Lanes, Lanes, Lanes) {
        let (p12, m12, p34, m34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
        return (m0 + p12 + p34, m12 + 2 * m34, p12 + 4 * p34, m12 + 8 * m34 + m5)
    }

    /// One output channel's 4×4 tiles = Aᵀ M A + bias, cropped at the image's edge.
    /// - m: M for this channel (ξ-planes `plane` apart, tiles contiguous; 8 floats readable past
    ///   the last tile) → y: rows from the band's first output row, `h` rows left in the image.
    private static func outputTransform(_ m: UnsafePointer<Float>, plane: Int, tileRows: Int, tileColumns tw: Int, bias: Float,
                                        into y: UnsafeMutablePointer<Float>, h: Int, w: Int, scratch s: UnsafeMutablePointer<Lanes>) {
        for r in 0..<tileRows {
            for group in stride(from: 0, to: tw, by: 8) {
                let base = m + r * tw + group
                @inline(__always) func load(_ i: Int, _ j: Int) -> Lanes {
                    UnsafeRawPointer(base + (6 * i + j) * plane).loadUnaligned(as: Lanes.self)
                }
                // s[a][j] = (Aᵀ M)[a][j].
                for j in 0..<6 {
                    let (a0, a1, a2, a3) = aTransform(load(0, j), load(1, j), load(2, j), load(3, j), load(4, j), load(5, j))
                    (s[j], s[6 + j], s[12 + j], s[18 + j]) = (a0, a1, a2, a3)
                }
                let lanes = min(8, tw - group)
                for a in 0..<4 {
                    let oy = 4 * r + a
                    guard oy < h else { break }
                    let row = s + 6 * a
                    let (y0, y1, y2, y3) = aTransform(row[0], row[1], row[2], row[3], row[4], row[5])
                    let out = y + oy * w + 4 * group
                    let values = (y0 + bias, y1 + bias, y2 + bias, y3 + bias)
                    for k in 0..<lanes {
                        let x0 = 4 * (group + k)
                        let dst = out + 4 * k
                        if x0 + 3 < w {
                            (dst[0], dst[1], dst[2], dst[3]) = (values.0[k], values.1[k], values.2[k], values.3[k])
                        } else {
                            if x0 < w { dst[0] = values.0[k] }
                            if x0 + 1 < w { dst[1] = values.1[k] }
                            if x0 + 2 < w { dst[2] = values.2[k] }
                        }
                    }
                }
            }
        }
    }
}
