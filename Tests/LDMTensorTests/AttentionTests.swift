import LDMTensor
import LDMTestSupport
import Testing

@Suite struct AttentionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let n, c, t, heads: Int
        var testDescription: String { "N\(n) C\(c) T\(t) heads\(heads)" }
    }

    static let sweep = [Case(n: 1, c: 1, t: 1, heads: 1), Case(n: 1, c: 8, t: 7, heads: 2),
                        Case(n: 2, c: 12, t: 13, heads: 3), Case(n: 1, c: 32, t: 64, heads: 1),
                        Case(n: 1, c: 20, t: 37, heads: 5), Case(n: 2, c: 34, t: 33, heads: 2),
                        Case(n: 1, c: 80, t: 300, heads: 2), Case(n: 1, c: 96, t: 65, heads: 3),
                        Case(n: 1, c: 160, t: 30, heads: 2)]

    /// Two Float32 GEMMs (K = d, then K = T) around an exact softmax: 1e-5 absolute on outputs of
    /// magnitude ≲ 1 (the values are in [−1, 1] and the result is their convex combination).
    static let tolerance = 1e-5

    @Test(arguments: sweep)
    func legacyLayoutMatchesTwin(_ c: Case) throws {
        let qkv = try tensor([c.n, 3 * c.c, c.t], seed: 30)
        let out = try Tensor(shape: [c.n, c.c, c.t])
        try Attention.forward(qkv: qkv, heads: c.heads, scaling: .splitQK, into: out, workspace: Workspace())
        let parts = Naive.splitLegacyQKV(qkv.values, n: c.n, c: c.c, t: c.t, heads: c.heads)
        let expected = Naive.attention(q: parts.q, k: parts.k, v: parts.v, n: c.n, c: c.c, t: c.t, heads: c.heads)
        let cmp = Comparison(out.values, expected)
        #expect(cmp.maxAbs < Self.tolerance, "\(cmp)")
    }

    @Test(arguments: sweep, [Attention.Scaling.scores, .splitQK])
    func separateLayoutMatchesTwin(_ c: Case, _ scaling: Attention.Scaling) throws {
        let q = try tensor([c.n, c.c, c.t], seed: 31), k = try tensor([c.n, c.c, c.t], seed: 32)
        let v = try tensor([c.n, c.c, c.t], seed: 33)
        let out = try Tensor(shape: q.shape)
        try Attention.forward(q: q, k: k, v: v, heads: c.heads, scaling: scaling, into: out, workspace: Workspace())
        let expected = Naive.attention(q: q.values, k: k.values, v: v.values, n: c.n, c: c.c, t: c.t, heads: c.heads)
        let cmp = Comparison(out.values, expected)
        #expect(cmp.maxAbs < Self.tolerance, "\(cmp)")
    }

    /// Splitting q/k/v naively instead of per head gives a different answer: the layout matters.
    @Test func legacyLayoutIsNotTheSeparateLayout() throws {
        let qkv = try tensor([1, 24, 9], seed: 34)
        let legacy = try Tensor(shape: [1, 8, 9]), naive = try Tensor(shape: [1, 8, 9])
        try Attention.forward(qkv: qkv, heads: 2, scaling: .splitQK, into: legacy, workspace: Workspace())
        let v = qkv.values
        let q = try Tensor(shape: [1, 8, 9], values: Array(v[0..<72]))
        let k = try Tensor(shape: [1, 8, 9], values: Array(v[72..<144]))
        let vv = try Tensor(shape: [1, 8, 9], values: Array(v[144..<216]))
        try Attention.forward(q: q, k: k, v: vv, heads: 2, scaling: .splitQK, into: naive, workspace: Workspace())
        #expect(Comparison(legacy.values, naive.values).maxAbs > 1e-3)
    }

    /// Several heads run through `PackedHead` in blocks of query rows: 7-row blocks (42 of them and a last one
    /// of 6) give the bits of one 300-row block, for both scalings.
    @Test(arguments: [Attention.Scaling.splitQK, .scores])
    func bitsDoNotDependOnTheBlock(_ scaling: Attention.Scaling) throws {
        let qkv = try tensor([1, 3 * 80, 300], seed: 39)
        let outs = try [7 * 300, 300 * 300].map { block in
            let out = try Tensor(shape: [1, 80, 300])
            try Attention.forward(qkv: qkv, heads: 2, scaling: scaling, into: out, workspace: Workspace(), scoreBlock: block)
            return out.values
        }
        #expect(mismatches(outs[0], outs[1]) == 0)
    }

    @Test func sameResultForOneAndTwoThreads() throws {
        let qkv = try tensor([1, 3 * 64, 300], seed: 35)
        let outs = try [1, 2].map { threads in
            let (values, observed) = try withObservedThreads(threads) {
                let out = try Tensor(shape: [1, 64, 300])
                try Attention.forward(qkv: qkv, heads: 2, scaling: .splitQK, into: out, workspace: Workspace())
                return out.values
            }
            #expect(observed == threads, "threads observed inside the kernel")
            return values
        }
        #expect(mismatches(outs[0], outs[1]) == 0)
    }

    /// 16384 tokens in one head (the VQ decoder's mid attention at a 128x128 latent): the scratch
    /// stays at O(T × block), far under 1 GiB (a full score matrix would be 1 GiB by itself).
    /// d = 4 keeps the test quick; the scratch does not depend on d beyond 2·d·T floats.
    @Test func longSequenceScratchIsBounded() throws {
        let (c, t) = (4, 16384)
        let q = try tensor([1, c, t], seed: 36), k = try tensor([1, c, t], seed: 37), v = try tensor([1, c, t], seed: 38)
        let out = try Tensor(shape: [1, c, t])
        let ws = Workspace()
        try Attention.forward(q: q, k: k, v: v, heads: 1, scaling: .scores, into: out, workspace: ws)
        #expect(ws.allocatedBytes <= 32 << 20, "scratch \(ws.allocatedBytes) bytes")
        // Spot-check a few query positions against the twin on the same data.
        let sampleQueries = [0, 8191, 16383]
        for query in sampleQueries {
            var scores = (0..<t).map { s in (0..<c).reduce(0.0) { $0 + Double(q.values[$1 * t + query]) * Double(k.values[$1 * t + s]) } / 2 }
            let m = scores.max()!
            scores = scores.map { Foundation.exp($0 - m) }
            let total = scores.reduce(0, +)
            for i in 0..<c {
                let want = (0..<t).reduce(0.0) { $0 + scores[$1] / total * Double(v.values[i * t + $1]) }
                #expect(abs(Double(out.values[i * t + query]) - want) < 1e-5)
            }
        }
    }
}

import Foundation
