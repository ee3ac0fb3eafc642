import LDMParallel

/// Downscaling by averaging, PyTorch's `adaptive_avg_pool2d` (= `F.interpolate(mode="area")`): output
/// cell (i, j) averages input rows ⌊i·H/h⌋ ..< ⌈(i+1)·H/h⌉ and the columns likewise. Used to shrink a
/// latent or an image to about one tile before estimating GroupNorm statistics for tiled decoding.
public enum AreaResize {
    /// - x: [N, C, H, W] → y: [N, C, h, w] with 1 ≤ h ≤ H, 1 ≤ w ≤ W. Naive twin: `Naive.adaptiveAvgPool`.
    public static func forward(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try x.expect([nil, nil, nil, nil], "AreaResize", "x")
        let (h, w) = (x.shape[2], x.shape[3])
        let (ho, wo) = (y.rank == 4 ? y.shape[2] : 0, y.rank == 4 ? y.shape[3] : 0)
        try y.expect([x.shape[0], x.shape[1], nil, nil], "AreaResize", "output")
        guard ho >= 1, ho <= h, wo >= 1, wo <= w else {
            throw .invalidArgument(operation: "AreaResize", reason: "output \(ho)×\(wo) must be between 1×1 and the input's \(h)×\(w)")
        }
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.shape[0] * x.shape[1] * ho, minimumChunk: 16) { rows in
            for row in rows {
                let plane = row / ho, oy = row % ho
                let y0 = oy * h / ho, y1 = ((oy + 1) * h + ho - 1) / ho
                let base = src + plane * h * w
                for ox in 0..<wo {
                    let x0 = ox * w / wo, x1 = ((ox + 1) * w + wo - 1) / wo
                    var sum: Float = 0
                    for yy in y0..<y1 {
                        for xx in x0..<x1 { sum += base[yy * w + xx] }
                    }
                    dst[row * wo + ox] = sum / Float((y1 - y0) * (x1 - x0))
                }
            }
        }
    }
}
