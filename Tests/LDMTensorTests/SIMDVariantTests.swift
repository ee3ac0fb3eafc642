import CKernels
import Foundation
@testable import LDMTensor
import LDMParallel
import LDMTestSupport
import Testing

/// The C kernels at every vector width this CPU runs (`SIMDLevel.available`: baseline, and AVX2
/// and AVX-512F where present): each against its naive twin, all levels bitwise equal to each
/// other (same operations per lane, no FMA contraction), and 1 vs 2 threads bitwise equal at each.
/// On a CPU without AVX-512 (or off x86-64) the wider levels are not run: a test cannot run an
/// instruction the CPU lacks.
@Suite struct SIMDVariantTests {
    static let levels = SIMDLevel.available

    @Test func levelsResolveFromTheEnvironmentValue() {
        #expect(SIMDLevel.resolve(nil, supported: .avx512) == .avx512)
        #expect(SIMDLevel.resolve("avx2", supported: .avx512) == .avx2)
        #expect(SIMDLevel.resolve("AVX2", supported: .avx512) == .avx2)
        #expect(SIMDLevel.resolve("baseline", supported: .avx2) == .baseline)
        // Never above what the CPU supports; an unknown name changes nothing.
        #expect(SIMDLevel.resolve("avx512", supported: .avx2) == .avx2)
        #expect(SIMDLevel.resolve("avx512", supported: .baseline) == .baseline)
        #expect(SIMDLevel.resolve("sse9", supported: .avx2) == .avx2)
        #expect(SIMDLevel.resolve("", supported: .avx512) == .avx512)
        #expect(SIMDLevel.active <= SIMDLevel.supported)
        #expect(Self.levels.first == .baseline && Self.levels.last == SIMDLevel.supported)
    }

    /// Winograd's input and output transforms: widths around every group size (4, 8, 16 tiles:
    /// 1–3 columns past a multiple of 4, exactly 16 and 17 tiles), a single pixel, prime channel
    /// counts, several bands and images.
    @Test(arguments: [(1, 1, 1, 1, 1), (1, 3, 5, 3, 2), (2, 7, 9, 13, 5), (1, 5, 11, 29, 3), (1, 3, 6, 61, 2), (1, 2, 17, 64, 3),
                      (1, 3, 7, 68, 2), (1, 2, 5, 131, 3), (1, 13, 33, 35, 11)])
    func winogradAtEveryLevelMatchesTheTwin(_ shape: (Int, Int, Int, Int, Int)) throws {
        let (n, c, h, w, o) = shape
        let x = try tensor([n, c, h, w], seed: 21), weight = try tensor([o, c, 3, 3], seed: 22, scale: 0.5)
        let bias = try tensor([o], seed: 23)
        let expected = Naive.conv2d(x.values, x.shape, weight.values, weight.shape, bias.values, stride: 1, padding: .symmetric(1))
        let outputs = try Self.levels.map { level in try Conv2dTests.winograd(x, weight: weight, bias: bias, simd: level).values }
        for (level, y) in zip(Self.levels, outputs) {
            let cmp = Comparison(y, expected.values)
            #expect(cmp.maxAbs <= Conv2dTests.winogradTolerance * magnitude(expected.values), "\(level): \(cmp)")
            #expect(mismatches(y, outputs[0]) == 0, "\(level) against baseline")
        }
    }

    /// SiLU: odd lengths around the vector widths and the 1024-element blocks, and the exp's edges
    /// (clamped arguments, ±0, ±∞, NaN). Every level gives FastMath.silu's bits (the Swift code the
    /// kernel replaced), within 2e-6 relative of the Double twin on finite values.
    @Test(arguments: [0, 1, 3, 4, 5, 7, 15, 16, 17, 33, 1023, 1025, 2063])
    func siluAtEveryLevelMatchesTheTwin(_ count: Int) throws {
        let specials: [Float] = [0, -0, 100, -100, 88.5, -87.5, 20, -20, .infinity, -.infinity, .nan, 1e-30, -1e-30]
        var values = testValues(count, seed: 24, scale: 12)
        for (i, v) in specials.enumerated() where i < count { values[(i * 7) % count] = v }
        let x = try Tensor(shape: [count], values: values)
        let expected = Naive.silu(values)
        for level in Self.levels {
            let y = try Tensor(shape: [count])
            try Elementwise.silu(x, into: y, simd: level)
            let swift = values.map { FastMath.silu($0) }
            #expect(mismatches(y.values, swift) == 0, "\(level) against FastMath.silu")
            for (a, b) in zip(y.values, expected) where b.isFinite {
                #expect(abs(Double(a) - Double(b)) <= 2e-6 * max(1, abs(Double(b))), "\(level)")
            }
        }
    }

    /// GroupNorm's affine step ± SiLU: spatial sizes 1 and odd ones past each vector width, in
    /// place and not.
    @Test(arguments: [(1, 4, 1, 2), (2, 6, 7, 3), (1, 8, 17, 4), (1, 5, 33, 5), (1, 4, 61, 1)])
    func groupNormAtEveryLevelMatchesTheTwin(_ shape: (Int, Int, Int, Int)) throws {
        let (n, c, spatial, groups) = shape
        let x = try tensor([n, c, spatial], seed: 25, scale: 3)
        let gamma = try tensor([c], seed: 26), beta = try tensor([c], seed: 27)
        for silu in [false, true] {
            let expected = Naive.groupNorm(x.values, n: n, c: c, spatial: spatial, groups: groups, gamma: gamma.values,
                                           beta: beta.values, eps: 1e-5, silu: silu)
            let outputs = try Self.levels.map { level in
                let y = try x.copy()
                try GroupNorm.forward(y, groups: groups, gamma: gamma, beta: beta, eps: 1e-5, fusedSiLU: silu, into: y, simd: level)
                return y.values
            }
            for (level, y) in zip(Self.levels, outputs) {
                let cmp = Comparison(y, expected)
                #expect(cmp.maxAbs < 2e-6, "\(level) silu=\(silu) \(cmp)")
                #expect(mismatches(y, outputs[0]) == 0, "\(level) against baseline, silu=\(silu)")
            }
        }
    }

    /// 1 vs 2 threads at each level: bitwise the same (and the loops really used 2 threads).
    /// Softmax's exponent pass (`ldm_softmax_exp`): lengths around the 16-lane groups and the 256-element
    /// chunks of the sum, a scale, a row whose maximum comes last and one with a −∞ (a masked key). Every
    /// level gives the same bits (values and sum); against the Double twin, each e^(x·s − max) within
    /// 2e-6 relative (Cephes exp with FMAs, ≤ 1.41 ulp) and the sum within 1e-6 relative.
    @Test(arguments: [1, 2, 15, 16, 17, 31, 255, 256, 257, 513, 4096, 4101])
    func softmaxExponentAtEveryLevelMatchesTheTwin(_ length: Int) throws {
        var values = testValues(length, seed: 28, scale: 30)
        values[length - 1] = 31  // the maximum at the end: a ragged tail holds it when length % 16 ≠ 0
        if length > 2 { values[length / 2] = -.infinity }
        let scale: Float = 0.158
        let results = Self.levels.map { level in
            var row = values
            let inverse = row.withUnsafeMutableBufferPointer { Softmax.exponentiate($0.baseAddress!, length: length, scale: scale, simd: level) }
            return (row, inverse)
        }
        let shift = Double(values.max()! * scale)
        let expected = values.map { Foundation.exp(Double($0 * scale) - shift) }
        let sum = expected.reduce(0, +)
        for (level, (row, inverse)) in zip(Self.levels, results) {
            #expect(mismatches(row, results[0].0) == 0 && inverse.bitPattern == results[0].1.bitPattern, "\(level) against baseline")
            for (a, b) in zip(row, expected) { #expect(abs(Double(a) - b) <= 2e-6 * b + 1e-37, "\(level): \(a) vs \(b)") }
            #expect(abs(1 / Double(inverse) - sum) <= 1e-6 * sum, "\(level): Σ \(1 / Double(inverse)) vs \(sum)")
        }
    }

    /// The exponent itself (`ldm_exp_nonpositive`, FMAs): 200,003 arguments spread over [−87.34, 0] (the range
    /// where e^x is a normal float; the row's maximum 0 and scale 1 leave each as it is) plus −0, within 1.5 ulp
    /// (9e-8 relative) of e^x in Double at every level; below the range the result is clamped, as ldm_exp's,
    /// to e^−87.34 (a few hundred times the least normal float). Over every non-positive float it was within
    /// 1.41 ulp (the sweep is too slow for a test: 2³¹ values).
    @Test func softmaxExponentIsWithinOneAndAHalfUlp() throws {
        let count = 200_003
        var row = (0..<count).map { -87.336_5 * Float($0) / Float(count - 1) }
        row[0] = 0
        row.append(-0.0)
        row.append(-1000)
        let inputs = row
        for level in Self.levels {
            var values = inputs
            _ = values.withUnsafeMutableBufferPointer { Softmax.exponentiate($0.baseAddress!, length: $0.count, scale: 1, simd: level) }
            var worst = 0.0
            for (x, e) in zip(inputs.dropLast(), values.dropLast()) {
                let want = Foundation.exp(Double(x))
                worst = max(worst, abs(Double(e) - want) / want)
            }
            #expect(worst <= 9e-8, "\(level): worst relative error \(worst)")
            #expect(abs(Double(values.last!) / Foundation.exp(-87.3365478515625) - 1) < 1e-7, "\(level): e^−1000 gave \(values.last!)")
        }
    }

    /// GEGLU (`ldm_geglu`): lengths around the vector widths, large |x| (exp(−x²/2) underflowing), ±0, ±∞ and
    /// NaN. Every level gives the same bits; on finite gates each output is within |a|·(|x|/2·6e-7 + 4 ulp of
    /// the GELU) of the Double twin: 6e-7 bounds the float32 evaluation of PyTorch's erf (Abramowitz & Stegun
    /// 7.1.26, 1.4e-7 in exact arithmetic; as evaluated, worst 5.4e-7 near 0 where 1 − t·P(t)·e^(−x²) cancels,
    /// Scripts/bench/gelu_erf.py). The worst measured here is printed.
    @Test(arguments: [1, 3, 15, 16, 17, 1023, 1025, 2063])
    func gegluAtEveryLevelMatchesTheTwin(_ count: Int) throws {
        let specials: [Float] = [0, -0, 5.7, -5.7, 6, -6, 30, -30, .infinity, -.infinity, .nan, 1e-30, -1e-30, 0.05, -0.05]
        var values = testValues(count, seed: 29, scale: 8)
        for (i, v) in specials.enumerated() where i < count { values[(i * 7) % count] = v }
        let factors = testValues(count, seed: 30, scale: 3)
        let pairs = try Tensor(shape: [1, 2 * count], values: factors + values)
        var outputs: [[Float]] = []
        for level in Self.levels {
            let g = try Tensor(shape: [1, count])
            try GELU.geglu(pairs, into: g, simd: level)
            outputs.append(g.values)
        }
        var worst = 0.0
        for (level, geglu) in zip(Self.levels, outputs) {
            #expect(mismatches(geglu, outputs[0]) == 0, "\(level) against baseline")
            for i in 0..<count where values[i].isFinite {
                let gelu = Naive.gelu(Double(values[i]))
                let error = abs(Double(geglu[i]) - Double(factors[i]) * gelu)
                let rounding = abs(Double(factors[i])) * 4 * Double(Float.ulpOfOne) * abs(gelu) + 1e-37
                if values[i] != 0 { worst = max(worst, (error - rounding) / (abs(Double(factors[i]) * Double(values[i])) / 2)) }
                #expect(error <= abs(Double(factors[i])) * abs(Double(values[i])) / 2 * 6e-7 + rounding,
                        "\(level): geglu(\(factors[i]), \(values[i])) = \(geglu[i]), expected \(Double(factors[i]) * gelu)")
            }
            if let nan = values.firstIndex(where: \.isNaN) { #expect(geglu[nan].isNaN) }
        }
        print("geglu, \(count) values: worst erf-equivalent error \(worst)")
    }

    /// Token attention (`ldm_attention_values` after the score GEMM and softmax): head widths d = 1 … 80 around the
    /// vector widths (partial last vectors, 1–3 vectors a column group, several groups), query counts with 1–3 rows
    /// past a multiple of 4, several images and heads (each chunk re-packs the values when its head changes), and
    /// 4101 keys (five query blocks of 63 rows). Every level gives the same bits, within the attention bound of the
    /// Double twin.
    @Test(arguments: [(1, 5, 7, 1, 1), (2, 7, 13, 24, 3), (1, 9, 33, 40, 1), (2, 6, 77, 128, 2), (1, 3, 9, 80, 1),
                      (1, 300, 4101, 40, 1), (1, 2, 5, 17, 1)])
    func tokenAttentionAtEveryLevelMatchesTheTwin(_ shape: (Int, Int, Int, Int, Int)) throws {
        let (n, tq, tk, c, heads) = shape
        let q = try tensor([n, tq, c], seed: 61), k = try tensor([n, tk, c], seed: 62), v = try tensor([n, tk, c], seed: 63)
        let outputs = try Self.levels.map { level in
            let out = try Tensor(shape: [n, tq, c])
            try Attention.forward(query: .init(q), key: .init(k), value: .init(v), heads: heads, into: out, workspace: Workspace(),
                                  simd: level)
            return out.values
        }
        let expected = Naive.tokenAttention(q: q.values, k: k.values, v: v.values, n: n, tq: tq, tk: tk, c: c, heads: heads)
        for (level, values) in zip(Self.levels, outputs) {
            #expect(mismatches(values, outputs[0]) == 0, "\(level) against baseline")
            let cmp = Comparison(values, expected)
            #expect(cmp.maxAbs < AttentionTests.tolerance, "\(level): \(cmp)")
        }
    }

    /// Channel-major attention (the U-Nets' `AttentionBlock`: several heads through `PackedHead`, wider ones and a
    /// single one through the GEMMs): head widths around the vector widths (4, 17, 32, 40) and past
    /// `packedHeadWidth` (80), token counts around the 16-key panels, several images. Every level gives the same bits, within the attention bound of the Double twin.
    @Test(arguments: [(1, 8, 7, 2), (2, 34, 33, 2), (1, 80, 300, 2), (1, 96, 65, 3), (1, 160, 30, 2), (1, 40, 50, 1)])
    func channelAttentionAtEveryLevelMatchesTheTwin(_ shape: (Int, Int, Int, Int)) throws {
        let (n, c, t, heads) = shape
        let qkv = try tensor([n, 3 * c, t], seed: 66)
        let outputs = try Self.levels.map { level in
            let out = try Tensor(shape: [n, c, t])
            try Attention.forward(qkv: qkv, heads: heads, scaling: .splitQK, into: out, workspace: Workspace(), simd: level)
            return out.values
        }
        let parts = Naive.splitLegacyQKV(qkv.values, n: n, c: c, t: t, heads: heads)
        let expected = Naive.attention(q: parts.q, k: parts.k, v: parts.v, n: n, c: c, t: t, heads: heads)
        for (level, values) in zip(Self.levels, outputs) {
            #expect(mismatches(values, outputs[0]) == 0, "\(level) against baseline")
            let cmp = Comparison(values, expected)
            #expect(cmp.maxAbs < AttentionTests.tolerance, "\(level): \(cmp)")
        }
    }

    /// Attention's score kernel against its in-order FMA twin, bit for bit at every level: key counts around the
    /// panel (16), register-block (16, 32, 64 keys) and chunk (192; 64–256 at 8 lanes, by d) sizes, 1–7 query rows (4-row blocks and
    /// their remainders), head widths 1 … 160, rows wider than d (a head's columns inside a fused projection).
    @Test(arguments: [(1, 1, 1), (3, 5, 3), (4, 16, 40), (5, 17, 40), (7, 77, 64), (4, 193, 40), (6, 400, 80),
                      (2, 65, 160), (8, 4101, 40)])
    func attentionScoresAtEveryLevelEqualTheInOrderTwin(_ shape: (Int, Int, Int)) throws {
        let (rows, tk, d) = shape
        let (ldq, ldk) = (d + 3, 2 * d + 1)
        let q = try tensor([rows, ldq], seed: 64, scale: 2).values, k = try tensor([tk, ldk], seed: 65, scale: 2).values
        let expected = Naive.inOrderScores(q: q, ldq: ldq, rows: rows, k: k, ldk: ldk, tk: tk, d: d)
        for level in Self.levels {
            var packed = [Float](repeating: .nan, count: (tk + 15) / 16 * 16 * d)
            var out = [Float](repeating: .nan, count: rows * tk + 1)
            ldm_attention_pack_keys(level.code, k, ldk, tk, d, &packed)
            ldm_attention_scores(level.code, q, ldq, rows, packed, tk, d, &out, tk)
            #expect(mismatches(Array(out[..<(rows * tk)]), expected) == 0, "\(level), \(shape)")
            #expect(out[rows * tk].isNaN, "\(level): wrote past the last row")
        }
    }

    @Test func oneAndTwoThreadsAgreeAtEveryLevel() throws {
        let x = try tensor([1, 24, 37, 70], seed: 28), weight = try tensor([20, 24, 3, 3], seed: 29), bias = try tensor([20], seed: 30)
        let gamma = try tensor([24], seed: 31), beta = try tensor([24], seed: 32)
        let long = try tensor([100_003], seed: 33, scale: 8)
        for level in Self.levels {
            let runs = try [1, 2].map { threads in
                let (values, observed) = try withObservedThreads(threads) {
                    let conv = try Conv2dTests.winograd(x, weight: weight, bias: bias, simd: level).values
                    let norm = try x.copy()
                    try GroupNorm.forward(norm, groups: 8, gamma: gamma, beta: beta, eps: 1e-6, fusedSiLU: true, into: norm, simd: level)
                    let activated = try Tensor(shape: long.shape)
                    try Elementwise.silu(long, into: activated, simd: level)
                    return conv + norm.values + activated.values
                }
                #expect(observed == threads, "\(level): threads observed inside the kernels")
                return values
            }
            #expect(mismatches(runs[0], runs[1]) == 0, "\(level)")
        }
    }
}
