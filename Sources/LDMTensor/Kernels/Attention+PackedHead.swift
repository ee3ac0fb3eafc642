import CKernels

extension Attention {
    /// One head of channel-major attention on the token-attention kernels (`ldm_attention_scores`,
    /// `ldm_attention_values`; TokenAttention.swift), for the many-head case where each thread takes whole heads.
    ///
    /// The head's keys are packed once into the score kernel's 16-key panels and its values transposed once into
    /// token-major rows (O(T·d) each, against the O(T²·d) products); then, per block of query rows, the rows' queries
    /// are transposed, their scores formed (no BLAS zeroing of the block before the product, no re-packing of
    /// the keys for every block: together a quarter of the time of the small-head models' attention through
    /// two GEMMs, docs/performance.md), exponentiated exactly (every row sees all its keys), multiplied into the
    /// values with the division by Σ, and the block's outputs transposed back. The sums over d and over T run in
    /// order with one FMA a term, so the result depends on neither the thread split, the vector width nor the
    /// rows of a block.
    struct PackedHead {
        let d, t, rows: Int
        let scaling: Scaling
        let simd: SIMDLevel
        /// A packed value row: whole vectors at every width (zeros past d).
        var padded: Int { (d + 15) / 16 * 16 }
        /// The head's keys in panels of 16: [⌈T / 16⌉, d, 16].
        var panelFloats: Int { (t + 15) / 16 * 16 * d }
        /// Scores rows·T, inverses rows, values T·padded, key panels, the block's queries and outputs rows·d each.
        var scratchCount: Int { rows * t + rows + t * padded + panelFloats + 2 * rows * d }

        /// - q, k, v: [d, T] (rows T apart) → result: [d, T]; scratch: `scratchCount` floats.
        func run(q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                 into result: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
            let scores = scratch, inverses = scores + rows * t, values = inverses + rows
            let keys = values + t * padded, queries = keys + panelFloats, outputs = queries + rows * d
            // QKVAttentionLegacy scales q and k by d^(−1/4) each before the product (the same rounding as the
            // GEMM path); model.py's AttnBlock scales the product by d^(−1/2), in the exponent pass.
            let quarter: Float = scaling == .splitQK ? Float(1 / Double(d).squareRoot().squareRoot()) : 1
            let scale: Float = scaling == .splitQK ? 1 : Float(1 / Double(d).squareRoot())
            packKeys(k, quarter: quarter, into: keys)
            packValues(v, into: values)
            var t0 = 0
            while t0 < t {
                let count = min(rows, t - t0)
                for i in 0..<d {
                    let source = q + i * t + t0
                    for r in 0..<count { queries[r * d + i] = source[r] * quarter }
                }
                // scores[count, T] = queries · kᵀ, then e^(scale·(s − max)) a row with its 1/Σ.
                ldm_attention_scores(simd.code, queries, d, count, keys, t, d, scores, t)
                for r in 0..<count { inverses[r] = Softmax.exponentiate(scores + r * t, length: t, scale: scale, simd: simd) }
                // outputs[count, d] = (e^scores · v) / Σ, then back to channel-major.
                ldm_attention_values(simd.code, scores, t, count, t, values, padded, d, outputs, d, inverses)
                for i in 0..<d {
                    let target = result + i * t + t0
                    for r in 0..<count { target[r] = outputs[r * d + i] }
                }
                t0 += count
            }
        }

        /// Key s's component i to keys[(s / 16)·16·d + 16·i + s mod 16] (`ldm_attention_pack_keys`' layout, read here
        /// from channel-major rows), times `quarter`; zeros past T. - k: [d, T] → keys: [⌈T / 16⌉, d, 16]
        private func packKeys(_ k: UnsafeMutablePointer<Float>, quarter: Float, into keys: UnsafeMutablePointer<Float>) {
            for panel in 0..<((t + 15) / 16) {
                let first = panel * 16, count = min(16, t - first)
                for i in 0..<d {
                    let source = k + i * t + first, target = keys + panel * 16 * d + 16 * i
                    for s in 0..<count { target[s] = source[s] * quarter }
                    for s in count..<16 { target[s] = 0 }
                }
            }
        }

        /// values[s·padded + i] = v[i, s], zeros past d (`ldm_attention_pack_values`' layout).
        /// - v: [d, T] → values: [T, padded]
        private func packValues(_ v: UnsafeMutablePointer<Float>, into values: UnsafeMutablePointer<Float>) {
            if padded > d {
                for s in 0..<t { (values + s * padded + d).update(repeating: 0, count: padded - d) }
            }
            // Sixteen tokens at a time: the source rows are read in runs and the target rows stay in L1.
            var s0 = 0
            while s0 < t {
                let count = min(16, t - s0)
                for i in 0..<d {
                    let source = v + i * t + s0, target = values + s0 * padded + i
                    for s in 0..<count { target[s * padded] = source[s] }
                }
                s0 += count
            }
        }
    }
}
