import LDMParallel
import LDMTensor

/// taming `VectorQuantizer2` at inference (docs/ldm-spec.md §2.6): each latent pixel is replaced by its
/// nearest codebook vector, nearest by the reference's expanded distance
/// d_j = (|z|² + |e_j|²) − 2 z·e_j evaluated in Float32 in that order, first index on ties, then
/// returned straight-through as z + (e − z) (equal to e up to one rounding), as the reference does.
/// - z: [N, D, H, W] → ([N, D, H, W], codes [N·H·W])
struct VectorQuantizer: Sendable {
    let codebook: Tensor
    /// The codebook transposed (dimension-major, `padded` codes per dimension), padded to a
    /// multiple of 8 codes with +∞ norms (never chosen), for 8-wide scanning.
    let columns: [Float]
    let norms: [Float]
    let padded: Int

    init(_ weights: any WeightProvider, _ spec: EmbeddingSpec) throws {
        let (codes, dimension) = (spec.count, spec.dimension)
        codebook = try spec.weight.load(weights, as: [codes, dimension])
        let padded = (codes + 7) / 8 * 8
        var columns = [Float](repeating: 0, count: dimension * padded)
        var norms = [Float](repeating: .infinity, count: padded)
        let e = codebook.data
        for j in 0..<codes {
            var norm: Float = 0
            for d in 0..<dimension {
                columns[d * padded + j] = e[j * dimension + d]
                norm += e[j * dimension + d] * e[j * dimension + d]
            }
            norms[j] = norm
        }
        self.columns = columns
        self.norms = norms
        self.padded = padded
    }

    func callAsFunction(_ z: Tensor, _ ws: Workspace) throws -> (Tensor, [Int32]) {
        let (n, dims, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        try codebook.expect([nil, dims], "quantize", "codebook")
        let plane = h * w
        var codes = [Int32](repeating: 0, count: n * plane)
        let out = try ws.tensor(z.shape)
        let (src, dst, e) = (z.data, out.data, codebook.data)
        let padded = self.padded
        codes.withUnsafeMutableBufferPointer { codeBuffer in
            let codePointer = codeBuffer.baseAddress!
            norms.withUnsafeBufferPointer { normBuffer in
                columns.withUnsafeBufferPointer { columnBuffer in
                    let (normBase, columnBase) = (normBuffer.baseAddress!, columnBuffer.baseAddress!)
                    Parallel.forEach(n * plane, minimumChunk: 64) { pixels in
                        for pixel in pixels {
                            let (image, p) = (pixel / plane, pixel % plane)
                            let base = src + image * dims * plane + p
                            var zz: Float = 0
                            for d in 0..<dims { zz += base[d * plane] * base[d * plane] }
                            var bestValue = Float.infinity, best = 0
                            var j = 0
                            while j < padded {
                                var dot = SIMD8<Float>()
                                for d in 0..<dims {
                                    dot += base[d * plane] * UnsafeRawPointer(columnBase + d * padded + j).loadUnaligned(as: SIMD8<Float>.self)
                                }
                                let norm = UnsafeRawPointer(normBase + j).loadUnaligned(as: SIMD8<Float>.self)
                                let distance = (zz + norm) - 2 * dot
                                for lane in 0..<8 where distance[lane] < bestValue {
                                    bestValue = distance[lane]
                                    best = j + lane
                                }
                                j += 8
                            }
                            codePointer[pixel] = Int32(best)
                            for d in 0..<dims {
                                let value = base[d * plane]
                                dst[image * dims * plane + d * plane + p] = value + (e[best * dims + d] - value)
                            }
                        }
                    }
                }
            }
        }
        return (out, codes)
    }
}
