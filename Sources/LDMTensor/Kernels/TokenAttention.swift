import CKernels
#if canImport(Glibc)
import Glibc
#endif
import LDMParallel

extension Attention {
    /// Columns [start, start + count) of a token-major [N, T, W] tensor: q, k or v where it lies,
    /// possibly inside a fused projection ([N, T, 3C] for self-attention, [N, L, 2C] for k and v of
    /// a text context), so the projections need no copying apart.
    public struct Columns {
        public let tensor: Tensor
        public let start: Int
        public let count: Int

        public init(_ tensor: Tensor, start: Int = 0, count: Int? = nil) throws(TensorError) {
            try tensor.expect([nil, nil, nil], "attention", "token-major input")
            let count = count ?? tensor.shape[2] - start
            guard start >= 0, count >= 1, start + count <= tensor.shape[2] else {
                throw .invalidArgument(operation: "attention", reason: "columns \(start)..<\(start + count) outside \(tensor.shape)")
            }
            (self.tensor, self.start, self.count) = (tensor, start, count)
        }

        var images: Int { tensor.shape[0] }
        var tokens: Int { tensor.shape[1] }
        var stride: Int { tensor.shape[2] }
        /// Row `token` of `image`, from column `start + offset`.
        func at(_ image: Int, _ token: Int, _ offset: Int) -> UnsafeMutablePointer<Float> {
            tensor.data + (image * tokens + token) * stride + start + offset
        }
    }

    /// Upper bound on one work item's score block, in floats: a core's L2 on the running CPU (the exponent pass
    /// and the value product read the block back from there). Measured on the SD level-0 cases (4096 keys;
    /// docs/performance.md): with a 1 MiB L2 (AVX-512 EPYC) 1 MiB and 512 KiB blocks 309–314 ms, 4 MiB 318–331 ms;
    /// with a 512 KiB L2 (AVX2 EPYC) 512 KiB beat 1 MiB in every round (SD 2: 446–533 against 555–609 ms) and
    /// 256 and 128 KiB blocks were no better. The rows of a block do not change any row's bits, so the
    /// result is the same on every machine (`TransformerKernelTests.tokenAttentionBitsDoNotDependOnTheBlock`).
    public static let tokenScoreBlock = scoreBlock(level2Bytes: level2CacheBytes)

    /// The score block for an L2 of `level2Bytes` (≤ 0: unknown, 1 MiB assumed), kept within 256 KiB … 2 MiB.
    public static func scoreBlock(level2Bytes: Int) -> Int {
        let bytes = level2Bytes > 0 ? min(max(level2Bytes, 1 << 18), 1 << 21) : 1 << 20
        return bytes / MemoryLayout<Float>.size
    }

    /// A core's L2 in bytes as the C library reports it (0 where it does not know).
    static var level2CacheBytes: Int {
        #if canImport(Glibc)
        return max(0, sysconf(Int32(_SC_LEVEL2_CACHE_SIZE)))
        #else
        return 0
        #endif
    }

    /// Token-major multi-head attention, self- or cross- (Tk ≠ Tq), scores scaled by d^(−1/2)
    /// (CompVis `attention.CrossAttention`: `einsum(q, k) * scale`; diffusers `Attention` with SDPA):
    /// out[n, t, h·d + i] = Σ_s softmax_s(q[n, t, h·d ..< (h+1)·d] · k[n, s, …] / √d) · v[n, s, h·d + i]
    /// - query: [N, Tq, ·] (C columns), key, value: [N, Tk, ·] (C columns) → out: [N, Tq, C], C = heads · d.
    /// - causal: query t sees keys 0 ... t only (CLIP's text transformer; needs Tq = Tk), the rest of its
    ///   row weighted 0 exactly as an additive −∞ mask gives.
    ///
    /// Work items are (image, head, block of query rows); each item's scores [rows, Tk] are formed by
    /// `ldm_attention_scores` against the head's keys packed once per chunk (a GEMM would re-pack them for
    /// every block; its sum over d is in order with FMAs, so the bits are a GEMM's), soft-maxed exactly
    /// (every row sees all its keys) and multiplied into the values by `ldm_attention_values`, which reads
    /// the score rows in place against the head's values packed once per chunk, and divides each output row
    /// by its softmax sum (d numbers instead of Tk). Memory is O(threads × (block + 2d) × Tk) (a 4096-token
    /// self-attention with a 512 KiB L2: 32-row blocks of 512 KiB each) and the result does not depend on the
    /// thread split, the vector width (`simd`) or the rows a block holds (`scoreBlock`, floats; the machine's
    /// `tokenScoreBlock` unless a test sets it). Twins: `Naive.tokenAttention`, `Naive.inOrderScores`.
    public static func forward(query q: Columns, key k: Columns, value v: Columns, heads: Int, causal: Bool = false,
                               into out: Tensor, workspace: Workspace, simd: SIMDLevel = .active,
                               scoreBlock: Int = tokenScoreBlock) throws(TensorError) {
        let (n, tq, tk, c) = (q.images, q.tokens, k.tokens, q.count)
        guard !causal || tq == tk else {
            throw .invalidArgument(operation: "attention", reason: "a causal mask needs as many keys (\(tk)) as queries (\(tq))")
        }
        guard heads >= 1, c % heads == 0, k.count == c, v.count == c, k.images == n, v.images == n, v.tokens == tk else {
            throw .invalidArgument(operation: "attention", reason:
                "q \(q.tensor.shape)[\(q.count) columns], k \(k.tensor.shape)[\(k.count)], v \(v.tensor.shape)[\(v.count)] with \(heads) heads")
        }
        try out.expect([n, tq, c], "attention", "output")
        let d = c / heads
        let rows = max(1, min(tq, scoreBlock / tk))
        let blocks = (tq + rows - 1) / rows
        let items = n * heads * blocks
        let chunks = Parallel.chunkCount(items)
        let padded = (d + 15) / 16 * 16  // a packed value row: whole vectors at every width
        let keyPanels = (tk + 15) / 16 * 16 * d  // the head's keys packed in panels of 16
        // The score block, each row's 1/Σ, the head's packed values and keys.
        let perChunk = rows * tk + rows + tk * padded + keyPanels
        let scratch = try workspace.scratch(.scores, count: chunks * perChunk)
        let scale = Float(1 / Double(d).squareRoot())
        Parallel.forEachChunk(items) { chunk, range in
            let scores = scratch + chunk * perChunk, inverses = scores + rows * tk, packed = inverses + rows
            let packedKeys = packed + tk * padded
            var packedHead = -1  // image · heads + head whose keys and values are packed (a chunk's items run in order)
            for item in range {
                let image = item / (heads * blocks), head = item / blocks % heads, t0 = item % blocks * rows
                let count = min(rows, tq - t0)
                if packedHead != image * heads + head {
                    ldm_attention_pack_keys(simd.code, k.at(image, 0, head * d), k.stride, tk, d, packedKeys)
                    ldm_attention_pack_values(simd.code, v.at(image, 0, head * d), v.stride, tk, d, packed, padded)
                    packedHead = image * heads + head
                }
                // scores[count, Tk] = q_h[t0 ..< t0+count] · k_hᵀ
                ldm_attention_scores(simd.code, q.at(image, t0, head * d), q.stride, count, packedKeys, tk, d, scores, tk)
                for r in 0..<count {
                    let row = scores + r * tk, visible = causal ? t0 + r + 1 : tk
                    inverses[r] = Softmax.exponentiate(row, length: visible, scale: scale, simd: simd)
                    if visible < tk { (row + visible).update(repeating: 0, count: tk - visible) }
                }
                // out_h[t0 ..< t0+count] = (e^scores · v_h) / Σ, each row divided by its Σ: d numbers a row.
                ldm_attention_values(simd.code, scores, tk, count, tk, packed, padded, d, out.data + (image * tq + t0) * c + head * d,
                                     c, inverses)
            }
        }
    }
}
