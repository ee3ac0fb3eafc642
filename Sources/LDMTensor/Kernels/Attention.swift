import LDMParallel

/// Multi-head dot-product attention over channel-major sequences, computed in query blocks.
///
/// For each head and block of queries the scores against all keys are formed, soft-maxed row by
/// row, and multiplied into the values, so memory is O(T × block) instead of O(T²). Because every
/// query row sees all its keys at once, the softmax is the exact two-pass one; no online rescaling
/// is needed and block boundaries cannot change the result. Several heads (the U-Nets' attention):
/// each thread takes whole heads, through the token-attention kernels (`PackedHead`, L2-sized
/// blocks) up to `packedHeadWidth` wide, through two serial GEMMs beyond (`HeadPlan`). One head
/// (the VQ autoencoder's 512-wide one over up to 16384 tokens): two tiled GEMMs per block, 16 MiB
/// of scores, the threads sharing each product — packing its keys and values per thread would
/// cost 2·T·d floats each (64 MiB at a 512² output).
public enum Attention {
    /// Where q, k and v of head h live.
    public enum Layout: Sendable, Equatable {
        /// One [N, 3C, T] tensor whose rows are grouped per head as [q_h; k_h; v_h], d rows each
        /// (openaimodel `QKVAttentionLegacy`: qkv.reshape(B·heads, 3d, T).split(d)).
        case legacyQKV
        /// Three [N, C, T] tensors; head h is channels [h·d, (h+1)·d) of each (diffusers; VQ AttnBlock).
        case separate
    }

    /// Where the 1/√d factor is applied; both follow their reference's rounding.
    public enum Scaling: Sendable, Equatable {
        /// q and k each multiplied by d^(−1/4) before the product (QKVAttentionLegacy).
        case splitQK
        /// The product multiplied by d^(−1/2) (model.py AttnBlock: w_ = q·k · C^(−0.5)).
        case scores
    }

    /// Upper bound on the GEMM path's score block, in floats (16 MiB).
    public static let scoreBudget = 4 << 20

    /// The widest head `PackedHead` takes. Measured with `ldm-bench --filter attention --threads 2` against the
    /// GEMM path (AVX2 EPYC, 3 interleaved rounds, docs/performance.md): 20 heads of 32 over 4096 tokens 555 against
    /// 787 ms (medians), over 1024 tokens 36.5 against 40.7 ms; 8 heads of 128 over 256 tokens 3.9 against 2.6 ms —
    /// wide heads are OpenBLAS's, whose micro-kernel loads less per FMA than the value kernel's 4-row blocks.
    /// 64 is the widest the kernels were measured level with PyTorch's fused SDPA at (SD 2.x's heads).
    public static let packedHeadWidth = 64

    /// out[n, h·d + i, t] = Σ_s softmax_s(q_h[:, t] · k_h[:, s] · scale) v_h[i, s]
    /// - qkv: [N, 3C, T] (legacyQKV) → out: [N, C, T], C = heads · d.
    /// Naive twin: `Naive.attention`. `simd` and `scoreBlock` (floats of one thread's score block with
    /// several heads) change the speed only, never the bits.
    public static func forward(qkv: Tensor, heads: Int, scaling: Scaling, into out: Tensor,
                               workspace: Workspace, simd: SIMDLevel = .active,
                               scoreBlock: Int = tokenScoreBlock) throws(TensorError) {
        try qkv.expect([nil, nil, nil], "attention", "qkv")
        let (n, c3, t) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
        guard c3 % 3 == 0 else { throw .invalidArgument(operation: "attention", reason: "qkv has \(c3) channels, not 3·C") }
        try compute(n: n, channels: c3 / 3, tokens: t, heads: heads, scaling: scaling, out: out, workspace: workspace,
                    simd: simd, scoreBlock: scoreBlock) { image, head, d in
            let q = qkv.data + (image * c3 + head * 3 * d) * t
            return (q, q + d * t, q + 2 * d * t)
        }
    }

    /// - q, k, v: [N, C, T] (separate) → out: [N, C, T]
    public static func forward(q: Tensor, k: Tensor, v: Tensor, heads: Int, scaling: Scaling, into out: Tensor,
                               workspace: Workspace, simd: SIMDLevel = .active,
                               scoreBlock: Int = tokenScoreBlock) throws(TensorError) {
        try q.expect([nil, nil, nil], "attention", "q")
        try k.expect(q.shape.map { $0 }, "attention", "k")
        try v.expect(q.shape.map { $0 }, "attention", "v")
        let (n, c, t) = (q.shape[0], q.shape[1], q.shape[2])
        try compute(n: n, channels: c, tokens: t, heads: heads, scaling: scaling, out: out, workspace: workspace,
                    simd: simd, scoreBlock: scoreBlock) { image, head, d in
            let offset = (image * c + head * d) * t
            return (q.data + offset, k.data + offset, v.data + offset)
        }
    }

    private static func compute(n: Int, channels c: Int, tokens t: Int, heads: Int, scaling: Scaling, out: Tensor,
                                workspace: Workspace, simd: SIMDLevel, scoreBlock: Int,
                                head location: (Int, Int, Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) throws(TensorError) {
        guard heads >= 1, c % heads == 0, t >= 1 else {
            throw .invalidArgument(operation: "attention", reason: "\(c) channels do not split into \(heads) heads (T = \(t))")
        }
        try out.expect([n, c, t], "attention", "output")
        let d = c / heads
        let units = n * heads
        let gemm = HeadPlan(d: d, t: t, block: max(1, min(t, scoreBudget / t)), scaling: scaling, simd: simd)
        guard units > 1 else {
            // One head (the VQ autoencoder): the GEMMs are tiled and the softmax rows shared.
            let (q, k, v) = location(0, 0, d)
            let scratch = try workspace.scratch(.scores, count: gemm.scratchCount)
            gemm.run(q: q, k: k, v: v, into: out.data, scratch: scratch, parallel: true)
            return
        }
        // Several heads: each thread takes whole heads with its own scratch, through `PackedHead` up to
        // `packedHeadWidth` wide and serial GEMMs beyond. Either way the arithmetic per output element is fixed
        // by the shapes, not the threads.
        let packed = d <= packedHeadWidth
            ? PackedHead(d: d, t: t, rows: max(1, min(t, scoreBlock / t)), scaling: scaling, simd: simd) : nil
        let perChunk = packed?.scratchCount ?? gemm.scratchCount
        let scratch = try workspace.scratch(.scores, count: Parallel.chunkCount(units) * perChunk)
        Parallel.forEachChunk(units) { chunk, range in
            for unit in range {
                let (q, k, v) = location(unit / heads, unit % heads, d)
                let result = out.data + (unit / heads * c + unit % heads * d) * t
                if let packed {
                    packed.run(q: q, k: k, v: v, into: result, scratch: scratch + chunk * perChunk)
                } else {
                    gemm.run(q: q, k: k, v: v, into: result, scratch: scratch + chunk * perChunk, parallel: false)
                }
            }
        }
    }

    /// One head: out[d, T] = v · softmax(qᵀk · scale)ᵀ, in blocks of query rows.
    private struct HeadPlan {
        let d, t, block: Int
        let scaling: Scaling
        let simd: SIMDLevel

        /// block·T score floats, block softmax inverses, then (splitQK) the scaled copies of q and k, d·T each.
        var scratchCount: Int { block * t + block + (scaling == .splitQK ? 2 * d * t : 0) }

        func run(q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                 into result: UnsafeMutablePointer<Float>, scratch scores: UnsafeMutablePointer<Float>, parallel: Bool) {
            var (q, k) = (q, k)
            var scale: Float = 1
            let inverses = scores + block * t
            if scaling == .splitQK {
                // QKVAttentionLegacy scales q and k by d^(-1/4) each, before the product.
                let quarter = Float(1 / Double(d).squareRoot().squareRoot())
                let (sq, sk) = (inverses + block, inverses + block + d * t)
                for i in 0..<(d * t) {
                    sq[i] = q[i] * quarter
                    sk[i] = k[i] * quarter
                }
                (q, k) = (sq, sk)
            } else {
                scale = Float(1 / Double(d).squareRoot())
            }
            var t0 = 0
            while t0 < t {
                let rows = min(block, t - t0)
                // scores[rows, T] = q[:, t0..<t0+rows]ᵀ · k ; result[:, t0..<t0+rows] = v · (e^scores)ᵀ, then
                // each column divided by its row's softmax sum (d numbers instead of T).
                if parallel {
                    BLAS.sgemm(transposeA: true, m: rows, n: t, k: d, a: q + t0, lda: t, b: k, ldb: t, c: scores, ldc: t)
                    Parallel.forEach(rows, minimumChunk: max(1, 2048 / t)) { range in
                        for r in range { inverses[r] = Softmax.exponentiate(scores + r * t, length: t, scale: scale, simd: simd) }
                    }
                    BLAS.sgemm(transposeB: true, m: d, n: rows, k: t, a: v, lda: t, b: scores, ldb: t, c: result + t0, ldc: t)
                    Parallel.forEach(d, minimumChunk: max(1, 4096 / rows)) { range in
                        for i in range { normalise(result + i * t + t0, inverses, rows) }
                    }
                } else {
                    BLAS.serialSgemm(transposeA: true, m: rows, n: t, k: d, a: q + t0, lda: t, b: k, ldb: t, c: scores, ldc: t)
                    for r in 0..<rows { inverses[r] = Softmax.exponentiate(scores + r * t, length: t, scale: scale, simd: simd) }
                    BLAS.serialSgemm(transposeB: true, m: d, n: rows, k: t, a: v, lda: t, b: scores, ldb: t,
                                     c: result + t0, ldc: t)
                    for i in 0..<d { normalise(result + i * t + t0, inverses, rows) }
                }
                t0 += rows
            }
        }

        /// y[r] ·= inverses[r] for r < count: one output channel's columns of a query block.
        @inline(__always)
        private func normalise(_ y: UnsafeMutablePointer<Float>, _ inverses: UnsafeMutablePointer<Float>, _ count: Int) {
            for r in 0..<count { y[r] *= inverses[r] }
        }
    }
}
