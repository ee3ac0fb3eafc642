import LDMParallel

/// The U-Net's and autoencoder's fixed-factor resizes.
public enum Resize {
    /// Nearest-neighbour ×2: out[y, x] = in[y / 2, x / 2] (PyTorch `F.interpolate(scale_factor=2, mode="nearest")`).
    /// - x: [N, C, H, W] → y: [N, C, 2H, 2W]. Naive twin: `Naive.upsampleNearest2x`.
    public static func upsampleNearest2x(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try x.expect([nil, nil, nil, nil], "upsampleNearest2x", "x")
        let (h, w) = (x.shape[2], x.shape[3])
        try y.expect([x.shape[0], x.shape[1], 2 * h, 2 * w], "upsampleNearest2x", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.shape[0] * x.shape[1] * h, minimumChunk: 64) { rows in
            for row in rows {
                let from = src + row * w, to = dst + row * 4 * w
                for i in 0..<w {
                    to[2 * i] = from[i]
                    to[2 * i + 1] = from[i]
                }
                (to + 2 * w).update(from: to, count: 2 * w)
            }
        }
    }

    /// 2×2 average pool, stride 2 (PyTorch `avg_pool2d(2)`; an odd last row/column is dropped).
    /// - x: [N, C, H, W] → y: [N, C, H/2, W/2]. Naive twin: `Naive.avgPool2x2`.
    public static func avgPool2x2(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try x.expect([nil, nil, nil, nil], "avgPool2x2", "x")
        let (h, w) = (x.shape[2], x.shape[3])
        let (ho, wo) = (h / 2, w / 2)
        try y.expect([x.shape[0], x.shape[1], ho, wo], "avgPool2x2", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.shape[0] * x.shape[1] * ho, minimumChunk: 64) { rows in
            for row in rows {
                let plane = row / ho, oy = row % ho
                let top = src + plane * h * w + 2 * oy * w, bottom = top + w, to = dst + row * wo
                // Summation order (a + b) + (c + d), then × 0.25, as PyTorch's CPU kernel.
                for i in 0..<wo { to[i] = (top[2 * i] + top[2 * i + 1] + bottom[2 * i] + bottom[2 * i + 1]) * 0.25 }
            }
        }
    }
}
