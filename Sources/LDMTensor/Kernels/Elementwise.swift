import CKernels
import LDMParallel

/// Pointwise kernels. Each splits work into contiguous ranges; no element depends on the split.
public enum Elementwise {
    /// y = x · sigmoid(x), FastMath's exp at the CPU's vector width (`SIMDLevel`; the same bits at
    /// every level). - x: any shape → y: same shape (y may be x). Naive twin: `Naive.silu`.
    public static func silu(_ x: Tensor, into y: Tensor, simd: SIMDLevel = .active) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "silu", "output")
        let (src, dst) = (x.data, y.data)
        let blocks = (x.count + siluBlock - 1) / siluBlock
        Parallel.forEach(blocks, minimumChunk: max(1, 32768 / siluBlock)) { range in
            for block in range {
                let start = block * siluBlock
                ldm_silu(simd.code, src + start, dst + start, min(siluBlock, x.count - start))
            }
        }
    }

    /// Elements per SiLU call: a multiple of every vector width, so only the last block has a tail.
    static let siluBlock = 1024

    /// y = a + b (residual add). - a, b: same shape → y: same shape (y may be a or b).
    public static func add(_ a: Tensor, _ b: Tensor, into y: Tensor) throws(TensorError) {
        try b.expect(a.shape.map { $0 }, "add", "b")
        try y.expect(a.shape.map { $0 }, "add", "output")
        let (p, q, r) = (a.data, b.data, y.data)
        Parallel.forEach(a.count, minimumChunk: 32768) { range in
            for i in range { r[i] = p[i] + q[i] }
        }
    }

    /// y = x · s, one Float32 rounding per element (PyTorch `z * scaling_factor` on a float32 tensor).
    /// - x: any shape → y: same shape (y may be x). Naive twin: `Naive.scale`.
    public static func scale(_ x: Tensor, by s: Float, into y: Tensor) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "scale", "output")
        let (p, r) = (x.data, y.data)
        Parallel.forEach(x.count, minimumChunk: 32768) { range in
            for i in range { r[i] = p[i] * s }
        }
    }

    /// y = x / s, a true division (PyTorch `z / scaling_factor`; not x · (1/s), which can differ by an ulp).
    /// - x: any shape → y: same shape (y may be x). Naive twin: `Naive.divide`.
    public static func divide(_ x: Tensor, by s: Float, into y: Tensor) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "divide", "output")
        let (p, r) = (x.data, y.data)
        Parallel.forEach(x.count, minimumChunk: 32768) { range in
            for i in range { r[i] = p[i] / s }
        }
    }

    /// x[n, c, ...] += v[n, c] (the ResBlock's timestep-embedding projection, broadcast over space).
    /// - x: [N, C, ...], v: [N, C]
    public static func addPerChannel(_ x: Tensor, _ v: Tensor) throws(TensorError) {
        guard x.rank >= 2 else { throw .invalidArgument(operation: "addPerChannel", reason: "x \(x.shape) needs [N, C, ...]") }
        try v.expect([x.shape[0], x.shape[1]], "addPerChannel", "v")
        let planes = x.shape[0] * x.shape[1], spatial = x.count / max(1, planes)
        let (p, q) = (x.data, v.data)
        Parallel.forEach(planes, minimumChunk: max(1, 16384 / max(1, spatial))) { range in
            for plane in range {
                let base = p + plane * spatial, value = q[plane]
                for i in 0..<spatial { base[i] += value }
            }
        }
    }
}
