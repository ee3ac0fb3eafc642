import CKernels
import LDMParallel

/// Winograd F(4×4, 3×3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
/// Networks", 2016) for 3×3, stride-1, padding-1 layers — most of the U-Net's and the VQ decoder's
/// FLOPs. Each 4×4 output tile needs 36 multiply-adds per (input, output) channel pair instead of
/// 144 (4× fewer): the 36 "frequency" products become 36 GEMMs of [O, C] × [C, tiles] (OpenBLAS).
///
/// Transforms (Toom-Cook with interpolation points 0, ±½, ±3⁄2, ∞ rather than the paper's 0, ±1, ±2, ∞;
/// exact in real arithmetic). In float32 the error is dominated by the 36 GEMMs' rounding, which the
/// output transform amplifies; these points amplify it least among the small dyadic sets tried
/// (`Scripts/bench/winograd_points.py`: rms error 1.7–1.8× lower than with ±1, ±2, about 3–5× a
/// direct convolution's), and every coefficient of Bᵀ and Aᵀ is dyadic (exact in float):
///   V = Bᵀ d B  (6×6 input patch d),  U = G g Gᵀ  (3×3 kernel g),  Y = Aᵀ (U ⊙ V) A  (4×4 output)
///   Bᵀ = [9⁄16 0 −5⁄2 0 1 0; 0 −9⁄8 −9⁄4 ½ 1 0; 0 9⁄8 −9⁄4 −½ 1 0; 0 −3⁄8 −¼ 3⁄2 1 0;
///         0 3⁄8 −¼ −3⁄2 1 0; 0 9⁄16 0 −5⁄2 0 1]
///   G  = [16⁄9 0 0; −1 −½ −¼; −1 ½ −¼; 1⁄9 1⁄6 ¼; 1⁄9 −1⁄6 ¼; 0 0 1]
///   Aᵀ = [1 1 1 1 1 0; 0 ½ −½ 3⁄2 −3⁄2 0; 0 ¼ ¼ 9⁄4 9⁄4 0; 0 ⅛ −⅛ 27⁄8 −27⁄8 1]
/// The input and output transforms are C kernels (`Sources/CKernels`) run at the CPU's vector width
/// (`SIMDLevel`: 4, 8 or 16 neighbouring tiles at once, one lane per tile, the same bits at every
/// width), and so is the weight transform (one lane per (o, c) pair).
enum Winograd {
    /// Transform positions ξ (6×6).
    static let positions = 36
    /// Floats of scratch for one band (padded input, V and M), 32 MiB: of 1, 4, 8, 16 and 32 MiB,
    /// 32 was fastest on the 2-core machine (bigger GEMMs beat keeping V in cache; docs/performance.md).
    static let budget = 8 << 20

    /// (o, c) pairs per task of the weight transform (a multiple of every vector width).
    static let weightBlock = 128

    /// U for every (o, c): [O, C, 3, 3] → [36, O, C] (ξ-major: one [O, C] matrix per position),
    /// one lane per pair, written straight to the 36 planes a vector (a cache line at 16 lanes) at a
    /// time. `simd`: the vector width (the same bits at every level).
    static func transformWeights(_ weight: UnsafePointer<Float>, o: Int, c: Int, into u: UnsafeMutablePointer<Float>,
                                 simd: SIMDLevel = .active) {
        let plane = o * c
        let blocks = (plane + weightBlock - 1) / weightBlock
        Parallel.forEach(blocks) { range in
            for b in range {
                let first = b * weightBlock, count = min(weightBlock, plane - first)
                ldm_winograd_weight_transform(simd.code, weight + first * 9, count, u + first, plane)
            }
        }
    }

    /// The same transform from the weight as held: a 16-bit weight is widened one block of pairs at a time into a
    /// stack buffer right before the block is transformed, never whole (SD's 1280-channel upsampler conv: 59 MB of
    /// halves instead of 118 MB written and read back as Float32). The same bits. - weight: [O, C, 3, 3] → u: [36, O, C]
    static func transformWeights(_ weight: WeightTensor, o: Int, c: Int, into u: UnsafeMutablePointer<Float>,
                                 simd: SIMDLevel = .active) {
        if let t = weight.float32Tensor { return transformWeights(t.data, o: o, c: c, into: u, simd: simd) }
        let plane = o * c
        let blocks = (plane + weightBlock - 1) / weightBlock
        Parallel.forEach(blocks) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: weightBlock * 9) { buffer in
                for b in range {
                    let first = b * weightBlock, count = min(weightBlock, plane - first)
                    weight.widen(elements: first * 9 ..< (first + count) * 9, into: buffer.baseAddress!, parallel: false)
                    ldm_winograd_weight_transform(simd.code, buffer.baseAddress!, count, u + first, plane)
                }
            }
        }
    }

    /// Geometry of one layer's tiling.
    struct Shape {
        let c, h, w, o: Int
        var tileRows: Int { (h + 3) / 4 }
        var tileColumns: Int { (w + 3) / 4 }
        /// Tile columns rounded up to whole groups of 16 lanes (the widest `SIMDLevel`), so the input
        /// transform's loads stay inside each padded row at every level.
        var paddedTileColumns: Int { (tileColumns + 15) / 16 * 16 }
        /// Width of the zero-padded input rows: one column left, the rest right.
        var paddedWidth: Int { 4 * paddedTileColumns + 2 }

        /// Scratch floats for bands of `rows` tile rows: padded input, V [36, C, T], M [36, O, T], and
        /// 16 floats after M (the output transform loads whole vectors past the last tile).
        func scratchCount(rowsPerBand rows: Int) -> Int {
            c * (4 * rows + 2) * paddedWidth + Winograd.positions * (c + o) * rows * tileColumns + 16
        }
    }

    /// Tile rows per band so that one band's scratch fits the budget (at least one row).
    static func tileRowsPerBand(c: Int, o: Int, h: Int, w: Int) -> Int {
        let shape = Shape(c: c, h: h, w: w, o: o)
        let perRow = positions * (c + o) * shape.tileColumns + 4 * c * shape.paddedWidth
        let fixed = 2 * c * shape.paddedWidth + 16
        return max(1, min(shape.tileRows, (budget - fixed) / max(1, perRow)))
    }

    /// y = conv3x3(x, g, padding 1) + bias, from transformed weights u ([36, O, C]).
    /// - x: [C, H, W] (one image), y: [O, H, W]. Bands of tile rows run one after another; within a
    ///   band the input transform is split over channels, the 36 GEMMs over threads (each GEMM
    ///   serial) and the output transform over output channels, so the result does not depend on
    ///   the thread count. `simd`: the transforms' vector width (the same bits at every level).
    static func forward(_ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, u: UnsafePointer<Float>, o: Int,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        rowsPerBand: Int, simd: SIMDLevel = .active) {
        let shape = Shape(c: c, h: h, w: w, o: o)
        let (th, tw, wp) = (shape.tileRows, shape.tileColumns, shape.paddedWidth)
        let paddedRows = 4 * rowsPerBand + 2
        let padded = scratch
        let v = padded + c * paddedRows * wp
        let m = v + positions * c * rowsPerBand * tw
        for firstRow in stride(from: 0, to: th, by: rowsPerBand) {
            let rows = min(rowsPerBand, th - firstRow), tiles = rows * tw
            Parallel.forEach(c) { channels in
                for ch in channels {
                    let p = padded + ch * paddedRows * wp
                    pad(x + ch * h * w, h: h, w: w, firstInputRow: 4 * firstRow - 1, rows: 4 * rows + 2, into: p, width: wp)
                    ldm_winograd_input_transform(simd.code, p, wp, rows, tw, v + ch * tiles, c * tiles)
                }
            }
            Parallel.forEach(positions) { range in
                for xi in range {
                    BLAS.serialSgemm(m: o, n: tiles, k: c, a: u + xi * o * c, lda: c, b: v + xi * c * tiles, ldb: tiles,
                                     c: m + xi * o * tiles, ldc: tiles)
                }
            }
            Parallel.forEach(o) { channels in
                for oc in channels {
                    // M for this channel → the band's output rows (h − 4·firstRow rows left in the image).
                    ldm_winograd_output_transform(simd.code, m + oc * tiles, o * tiles, rows, tw, bias?[oc] ?? 0,
                                                  y + oc * h * w + 4 * firstRow * w, h - 4 * firstRow, w)
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
}
