import LDMTensor
import LDMTestSupport
import Testing

/// The kernels of the cross-attention transformer blocks and CLIP (LayerNorm, GEGLU, quick-GELU,
/// Transpose, token-major attention) against their Double twins over odd, prime and size-1 shapes.
@Suite struct TransformerKernelTests {
    /// Double statistics like the twin; the error left is the Float32 arithmetic of the output
    /// ((x − m) · inv · γ + β: a few ulp): 2e-6 absolute on values of magnitude ≲ 5.
    @Test(arguments: [(1, 1), (3, 7), (17, 320), (5, 13), (2, 768)])
    func layerNormMatchesTwin(_ shape: (Int, Int)) throws {
        let (rows, c) = shape
        let x = try tensor([rows, c], seed: 40, scale: 3)
        let gamma = try tensor([c], seed: 41), beta = try tensor([c], seed: 42)
        let y = try Tensor(shape: x.shape)
        try LayerNorm.forward(x, gamma: gamma, beta: beta, eps: 1e-5, into: y)
        let cmp = Comparison(y.values, Naive.layerNorm(x.values, c: c, gamma: gamma.values, beta: beta.values, eps: 1e-5))
        #expect(cmp.maxAbs < 2e-6, "\(cmp)")
    }

    /// A constant row has zero variance: the output is β (eps keeps it finite), as PyTorch.
    @Test func layerNormOfAConstantRowIsBeta() throws {
        let x = try Tensor(shape: [1, 5], values: [Float](repeating: 3, count: 5))
        let gamma = try tensor([5], seed: 43), beta = try tensor([5], seed: 44)
        try LayerNorm.forward(x, gamma: gamma, beta: beta, eps: 1e-5, into: x)
        #expect(x.values == beta.values)
    }

    /// PyTorch's erf (Abramowitz & Stegun 7.1.26, within 6e-7 as evaluated in float32; SIMDVariantTests) and one
    /// Float multiply chain, on |a|, |x| ≤ 4: |a|·(|x|/2·6e-7 + 1e-6) ≤ 8.8e-6 absolute (1e-6 per unit of |a| was
    /// the chain's bound with libm's erf).
    @Test(arguments: [(1, 1), (3, 5), (7, 13), (2, 1280)])
    func gegluMatchesTwin(_ shape: (Int, Int)) throws {
        let (rows, f) = shape
        let x = try tensor([rows, 2 * f], seed: 45, scale: 4)
        let y = try Tensor(shape: [rows, f])
        try GELU.geglu(x, into: y)
        let cmp = Comparison(y.values, Naive.geglu(x.values, f: f))
        #expect(cmp.maxAbs < 8.8e-6, "\(cmp)")
    }

    /// FastMath's exp (≤ 2 ulp) inside: 1e-6 absolute on |x| ≤ 4.
    @Test(arguments: [1, 7, 8, 33, 1031])
    func quickGELUMatchesTwin(_ count: Int) throws {
        let x = try tensor([count], seed: 46, scale: 4)
        let y = try Tensor(shape: x.shape)
        try GELU.quick(x, into: y)
        let cmp = Comparison(y.values, Naive.quickGELU(x.values))
        #expect(cmp.maxAbs < 1e-6 * 4, "\(cmp)")
    }

    /// A permutation: exact.
    @Test(arguments: [(1, 1, 1), (2, 3, 5), (1, 33, 70), (3, 64, 1), (2, 1, 31)])
    func transposeMatchesTwin(_ shape: (Int, Int, Int)) throws {
        let (n, a, b) = shape
        let x = try tensor([n, a, b], seed: 47)
        let y = try Tensor(shape: [n, b, a])
        try Transpose.forward(x, into: y)
        #expect(y.values == Naive.transpose(x.values, n: n, a: a, b: b))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let n, tq, tk, c, heads: Int
        var testDescription: String { "N\(n) Tq\(tq) Tk\(tk) C\(c) heads\(heads)" }
    }

    /// Same bound and reason as `AttentionTests.tolerance`.
    @Test(arguments: [Case(n: 1, tq: 1, tk: 1, c: 1, heads: 1), Case(n: 2, tq: 13, tk: 7, c: 12, heads: 3),
                      Case(n: 1, tq: 37, tk: 37, c: 20, heads: 5), Case(n: 2, tq: 5, tk: 77, c: 16, heads: 2),
                      Case(n: 1, tq: 300, tk: 11, c: 8, heads: 1)])
    func tokenAttentionMatchesTwin(_ c: Case) throws {
        // q, k, v inside fused projections, as the transformer block lays them out.
        let qkv = try tensor([c.n, c.tq, 3 * c.c], seed: 48)
        let kv = try tensor([c.n, c.tk, 2 * c.c], seed: 49)
        let out = try Tensor(shape: [c.n, c.tq, c.c])
        try Attention.forward(query: .init(qkv, start: 0, count: c.c), key: .init(kv, start: 0, count: c.c),
                              value: .init(kv, start: c.c, count: c.c), heads: c.heads, into: out, workspace: Workspace())
        func columns(_ x: [Float], width: Int, start: Int) -> [Float] {
            stride(from: 0, to: x.count, by: width).flatMap { x[($0 + start)..<($0 + start + c.c)] }
        }
        let expected = Naive.tokenAttention(q: columns(qkv.values, width: 3 * c.c, start: 0), k: columns(kv.values, width: 2 * c.c, start: 0),
                                            v: columns(kv.values, width: 2 * c.c, start: c.c), n: c.n, tq: c.tq, tk: c.tk, c: c.c, heads: c.heads)
        let cmp = Comparison(out.values, expected)
        #expect(cmp.maxAbs < AttentionTests.tolerance, "\(cmp)")
    }

    /// The causal mask (CLIP): every query sees itself and the keys before it; more rows than one block.
    @Test(arguments: [Case(n: 1, tq: 1, tk: 1, c: 4, heads: 1), Case(n: 2, tq: 77, tk: 77, c: 12, heads: 3)])
    func causalTokenAttentionMatchesTwin(_ c: Case) throws {
        let q = try tensor([c.n, c.tq, c.c], seed: 54), k = try tensor([c.n, c.tk, c.c], seed: 55), v = try tensor([c.n, c.tk, c.c], seed: 56)
        let out = try Tensor(shape: [c.n, c.tq, c.c])
        try Attention.forward(query: .init(q), key: .init(k), value: .init(v), heads: c.heads, causal: true, into: out, workspace: Workspace())
        let expected = Naive.tokenAttention(q: q.values, k: k.values, v: v.values, n: c.n, tq: c.tq, tk: c.tk, c: c.c, heads: c.heads, causal: true)
        let cmp = Comparison(out.values, expected)
        #expect(cmp.maxAbs < AttentionTests.tolerance, "\(cmp)")
        #expect(throws: TensorError.self) {
            try Attention.forward(query: .init(q), key: .init(try tensor([c.n, c.tk + 1, c.c], seed: 57)), value: .init(try tensor([c.n, c.tk + 1, c.c], seed: 58)),
                                  heads: c.heads, causal: true, into: out, workspace: Workspace())
        }
    }

    /// erf through libm: 1e-6 absolute on |x| ≤ 4.
    @Test(arguments: [1, 9, 1031])
    func geluMatchesTwin(_ count: Int) throws {
        let x = try tensor([count], seed: 59, scale: 4)
        let y = try Tensor(shape: x.shape)
        try GELU.forward(x, into: y)
        #expect(Comparison(y.values, x.values.map { Float(Naive.gelu(Double($0))) }).maxAbs < 4e-6)
    }

    /// Blocks of query rows and heads split over threads: bitwise identical for 1 and 2 threads,
    /// with more than one query block (4096 tokens → 256-row blocks).
    /// The score block follows the machine's L2 (`tokenScoreBlock`), so a row's bits must not depend on which
    /// block holds it: blocks of 1 row, 3 rows (remainders of the 4-row groups), 5, 64 and all 300 rows, plain
    /// and causal, give the same bits.
    @Test func tokenAttentionBitsDoNotDependOnTheBlock() throws {
        let (tq, tk, c) = (300, 300, 24)
        let q = try tensor([2, tq, c], seed: 70), k = try tensor([2, tk, c], seed: 71), v = try tensor([2, tk, c], seed: 72)
        for causal in [false, true] {
            let outputs = try [tk, 3 * tk, 5 * tk, 64 * tk, tq * tk].map { block in
                let out = try Tensor(shape: [2, tq, c])
                try Attention.forward(query: .init(q), key: .init(k), value: .init(v), heads: 3, causal: causal, into: out,
                                      workspace: Workspace(), scoreBlock: block)
                return out.values
            }
            for values in outputs.dropFirst() { #expect(mismatches(values, outputs[0]) == 0, "causal \(causal)") }
        }
        // The rule: a core's L2 (256 KiB … 2 MiB), 1 MiB when unknown.
        #expect(Attention.scoreBlock(level2Bytes: 512 << 10) == 1 << 17)
        #expect(Attention.scoreBlock(level2Bytes: 0) == 1 << 18)
        #expect(Attention.scoreBlock(level2Bytes: 64 << 10) == 1 << 16)
        #expect(Attention.scoreBlock(level2Bytes: 32 << 20) == 1 << 19)
    }

    @Test func tokenAttentionIsBitwiseIdenticalForOneAndTwoThreads() throws {
        let q = try tensor([1, 4096, 8], seed: 50), kv = try tensor([1, 4096, 16], seed: 51)
        let outs = try [1, 2].map { threads in
            let (values, observed) = try withObservedThreads(threads) {
                let out = try Tensor(shape: [1, 4096, 8])
                try Attention.forward(query: .init(q), key: .init(kv, count: 8), value: .init(kv, start: 8), heads: 2,
                                      into: out, workspace: Workspace())
                return out.values
            }
            #expect(observed == threads, "threads observed inside the kernel")
            return values
        }
        #expect(mismatches(outs[0], outs[1]) == 0)
    }

    @Test func tokenAttentionRefusesMismatchedColumns() throws {
        let q = try tensor([1, 4, 8], seed: 52), k = try tensor([1, 5, 6], seed: 53)
        #expect(throws: TensorError.self) {
            try Attention.forward(query: .init(q), key: .init(k), value: .init(k), heads: 2, into: try Tensor(shape: [1, 4, 8]), workspace: Workspace())
        }
        #expect(throws: TensorError.self) { _ = try Attention.Columns(q, start: 6, count: 4) }
    }
}
