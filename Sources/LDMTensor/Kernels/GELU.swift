import CKernels
import Foundation
import LDMParallel

/// The GELU family of activations: GEGLU (the transformer blocks' feed-forward input, CompVis
/// `attention.GEGLU` / diffusers `GEGLU`) and quick-GELU (CLIP's `QuickGELUActivation`).
public enum GELU {
    /// y[r, j] = a[r, j] · gelu(a[r, F + j]): the projection's first half gated by GELU of its second
    /// half (`x, gate = proj(x).chunk(2, dim=-1); x * F.gelu(gate)`), at the CPU's vector width (`ldm_geglu`,
    /// the same bits at every level). Its erf is the one PyTorch computes for this call: the gate is a
    /// non-contiguous view, which ATen's own vectorised GELU takes (Abramowitz & Stegun 7.1.26, within
    /// 6e-7 of erf in float32), not oneDNN's; against diffusers' GEGLU on 2·10⁵ normal gates (×2) 13 % of
    /// outputs differ from PyTorch's (exp's last bit), against 64 % with libm's erf (Scripts/bench/gelu_erf.py).
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

    /// Exact GELU, PyTorch's default `approximate="none"`: x · ½(1 + erf(x/√2)) with libm's erf.
    @inline(__always)
    static func exact(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x * 0.70710678118654752)) }

    /// y = x · ½(1 + erf(x/√2)) (PyTorch `F.gelu`; OpenCLIP's text MLP), libm's erf: on a contiguous
    /// float32 tensor PyTorch takes oneDNN's GELU, which libm's erf matches more often than `geglu`'s
    /// (33 % of outputs differ against 69 %; Scripts/bench/gelu_erf.py). Run once per prompt: speed is
    /// no concern. - x: any shape → y: same shape (y may be x). Naive twin: `Naive.gelu`.
    public static func forward(_ x: Tensor, into y: Tensor) throws(TensorError) {
        try y.expect(x.shape.map { $0 }, "gelu", "output")
        let (src, dst) = (x.data, y.data)
        Parallel.forEach(x.count, minimumChunk: 32768) { range in
            for i in range { dst[i] = exact(src[i]) }
        }
    }

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
