import LDMParallel

/// Batched matrix transpose: channel-major feature maps to token-major sequences and back (the
/// transformer blocks work on [N, H·W, C] rows; convolutions and GroupNorm on [N, C, H·W]).
public enum Transpose {
    /// y[n, j, i] = x[n, i, j]. - x: [N, A, B] → y: [N, B, A] (y must not alias x). Naive twin: `Naive.transpose`.
    public static func forward(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try x.expect([nil, nil, nil], "transpose", "x")
        let (n, a, b) = (x.shape[0], x.shape[1], x.shape[2])
        try y.expect([n, b, a], "transpose", "output")
        let tile = 32
        let (tilesA, tilesB) = ((a + tile - 1) / tile, (b + tile - 1) / tile)
        let (src, dst) = (x.data, y.data)
        // Each index is one 32×32 tile of one image; tiles write disjoint outputs.
        Parallel.forEach(n * tilesA * tilesB, minimumChunk: 16) { range in
            for index in range {
                let image = index / (tilesA * tilesB), rest = index % (tilesA * tilesB)
                let i0 = rest / tilesB * tile, j0 = rest % tilesB * tile
                let from = src + image * a * b, to = dst + image * a * b
                for i in i0..<min(a, i0 + tile) {
                    for j in j0..<min(b, j0 + tile) { to[j * a + i] = from[i * b + j] }
                }
            }
        }
    }
}
