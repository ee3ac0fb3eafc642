import CKernels
import LDMParallel

/// The GELU family of activations: GEGLU (the transformer blocks' feed-forward input, CompVis
/// `attention.GEGLU` / diffusers `GEGLU`) and quick-GELU (CLIP's `QuickGELUActivation`).
public enum GELU {
    /// y[r, j] = a[r, j] · gelu(a[r, F + j]): the projection's first half gated by GELU of its second
    /// half (`x, gate = proj(x).chunk(2, dim=-1); x * F.gelu(gate)`), at the CPU's vector width (`ldm_geglu`:
    /// erf within 4.2e-7, the same bits at every level).
    /// - x: [R, 2F] → y: [R, F]. Naive twin: `Naive.geglu`.
    public static func geglu(_ x: Tensor, into y: Tensor, simd: SIMDLevel = .active) throws(TensorError) {
        guard x.rank == 2, x.shape[1] % 2 == 0 else {
            throw .invalidArgument(operation: "geglu", reason: "x \(x.shape) is not [R, 2F]")
        }
        let (rows, f) = (x.shape[0], x.shape[1] / 2)
        try y.expect([rows, f], "geglu", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(rows, minimumChunk: max(1, 8192 / max(1, f))) { range in
            for r in range {
                let a = src + r * 2 * f
                ldm_geglu(simd.code, a, a + f, dst + r * f, f)
            }
        }
    }

    /// y = x · ½(1 + erf(x/√2)) (PyTorch `F.gelu`; OpenCLIP's text MLP), as `geglu`'s GELU. - x: any shape →
    /// y: same shape (y may be x). Naive twin: `Naive.gelu`.
    public static func forward(_ x: Tensor, into y: Tensor, simd: SIMDLevel = .active) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "gelu", "output")
        let (src, dst) = (x.data, y.data)
        let blocks = (x.count + block - 1) / block
        Parallel.forEach(blocks, minimumChunk: max(1, 32768 / block)) { range in
            for b in range { ldm_gelu(simd.code, src + b * block, dst + b * block, min(block, x.count - b * block)) }
        }
    }

    /// Elements per GELU call: a multiple of every vector width, so only the last block has a tail.
    static let block = 1024

    /// y = x · sigmoid(1.702 x) (transformers `QuickGELUActivation`, CLIP ViT-L/14's hidden_act).
    /// - x: any shape → y: same shape (y may be x). Naive twin: `Naive.quickGELU`.
    public static func quick(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "quickGELU", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.count, minimumChunk: 32768) { range in
            for i in range {
                let v = src[i]
                dst[i] = v / (1 + FastMath.exp(-1.702 * v))
            }
        }
    }
}
