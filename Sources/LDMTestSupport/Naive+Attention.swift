extension Naive {
    /// Attention's score product as `ldm_attention_scores` defines its rounding: out[r, s] = Σ_i q[r, i] · k[s, i],
    /// the sum over i in order from 0 with one fused multiply-add a term (what a GEMM that sums K in order gives).
    /// - q: [rows, ldq] (d columns), k: [tk, ldk] (d columns) → [rows, tk]
    public static func inOrderScores(q: [Float], ldq: Int, rows: Int, k: [Float], ldk: Int, tk: Int, d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * tk)
        for r in 0..<rows {
            for s in 0..<tk {
                var sum: Float = 0
                for i in 0..<d { sum = sum.addingProduct(q[r * ldq + i], k[s * ldk + i]) }
                out[r * tk + s] = sum
            }
        }
        return out
    }
}
