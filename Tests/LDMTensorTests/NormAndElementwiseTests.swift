import Foundation
import LDMTensor
import LDMTestSupport
import Testing

@Suite struct NormAndElementwiseTests {
    /// GroupNorm: statistics in Double like the twin; the remaining error is the Float32 output
    /// (and FastMath's ~1-ulp exp inside SiLU): 2e-6 absolute on values of magnitude ≲ 5.
    @Test(arguments: [(1, 32, 1, 32, 1e-5), (2, 64, 7 * 5, 32, 1e-6), (1, 96, 13, 32, 1e-5), (1, 6, 17, 3, 1e-6),
                      (3, 4, 1, 1, 1e-5)])
    func groupNormMatchesTwin(_ shape: (Int, Int, Int, Int, Double)) throws {
        let (n, c, spatial, groups, eps) = shape
        let x = try tensor([n, c, spatial], seed: 7, scale: 3)
        let gamma = try tensor([c], seed: 8), beta = try tensor([c], seed: 9)
        for silu in [false, true] {
            let y = try Tensor(shape: x.shape)
            try GroupNorm.forward(x, groups: groups, gamma: gamma, beta: beta, eps: Float(eps), fusedSiLU: silu, into: y)
            let expected = Naive.groupNorm(x.values, n: n, c: c, spatial: spatial, groups: groups, gamma: gamma.values,
                                           beta: beta.values, eps: Float(eps), silu: silu)
            let cmp = Comparison(y.values, expected)
            #expect(cmp.maxAbs < 2e-6, "silu=\(silu) \(cmp)")
        }
    }

    @Test func groupNormInPlaceAndDeterministic() throws {
        let x = try tensor([1, 64, 33, 17], seed: 10)
        let gamma = try tensor([64], seed: 11), beta = try tensor([64], seed: 12)
        let outs = try [1, 2].map { threads in
            let (values, observed) = try withObservedThreads(threads) {
                let y = try x.copy()
                try GroupNorm.forward(y, groups: 32, gamma: gamma, beta: beta, eps: 1e-6, fusedSiLU: true, into: y)
                return y.values
            }
            #expect(observed == threads, "threads observed inside the kernel")
            return values
        }
        #expect(mismatches(outs[0], outs[1]) == 0)
        let separate = try Tensor(shape: x.shape)
        try GroupNorm.forward(x, groups: 32, gamma: gamma, beta: beta, eps: 1e-6, fusedSiLU: true, into: separate)
        #expect(mismatches(separate.values, outs[0]) == 0)
        #expect(throws: TensorError.self) {
            try GroupNorm.forward(x, groups: 5, gamma: gamma, beta: beta, eps: 1e-6, into: separate)
        }
    }

    /// SiLU through FastMath.exp: within 4 ulp-ish (2e-6 relative) of the Double twin, on odd lengths.
    @Test(arguments: [1, 7, 8, 9, 1001])
    func siluMatchesTwin(_ count: Int) throws {
        let x = try tensor([count], seed: 13, scale: 12)
        let y = try Tensor(shape: [count])
        try Elementwise.silu(x, into: y)
        let expected = Naive.silu(x.values)
        for (a, b) in zip(y.values, expected) { #expect(abs(Double(a) - Double(b)) <= 2e-6 * max(1, abs(Double(b)))) }
    }

    /// exp over the whole finite range: at most 2 ulp from the correctly rounded value.
    @Test func fastExpIsAccurate() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let got = Double(FastMath.exp(x)), want = Foundation.exp(Double(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 2.5e-7, "worst relative error \(worst)")
        #expect(FastMath.exp(-200) == 0 || FastMath.exp(-200) < 1e-37)
        #expect(FastMath.exp(0) == 1)
    }

    /// The latent scaling of the conv first stage: one rounding per element, so equal to the twin bit
    /// for bit, in place or not, on odd, prime and 1-sized shapes and around the chunked split.
    @Test(arguments: [[1], [7], [1, 3, 1, 1], [1, 4, 5, 7], [2, 4, 13, 17], [1, 4, 129, 257]])
    func scaleAndDivideMatchTwins(_ shape: [Int]) throws {
        let x = try tensor(shape, seed: 22, scale: 9)
        for s: Float in [1, 0.18215, 1.7312, 3] {
            let y = try Tensor(shape: shape)
            try Elementwise.scale(x, by: s, into: y)
            #expect(mismatches(y.values, Naive.scale(x.values, s)) == 0, "scale \(shape) by \(s)")
            try Elementwise.divide(x, by: s, into: y)
            #expect(mismatches(y.values, Naive.divide(x.values, s)) == 0, "divide \(shape) by \(s)")
            let inPlace = try x.copy()
            try Elementwise.divide(inPlace, by: s, into: inPlace)
            #expect(inPlace.values == y.values)
        }
        #expect(throws: TensorError.self) { try Elementwise.scale(x, by: 2, into: try Tensor(shape: [shape.reduce(1, *) + 1])) }
    }

    @Test func addAndPerChannelAdd() throws {
        let a = try tensor([2, 3, 5, 7], seed: 14), b = try tensor([2, 3, 5, 7], seed: 15)
        let y = try Tensor(shape: a.shape)
        try Elementwise.add(a, b, into: y)
        #expect(y.values == zip(a.values, b.values).map { $0 + $1 })
        let v = try tensor([2, 3], seed: 16)
        let x = try a.copy()
        try Elementwise.addPerChannel(x, v)
        for i in 0..<x.count { #expect(x.values[i] == a.values[i] + v.values[i / 35]) }
        #expect(throws: TensorError.self) { try Elementwise.add(a, try tensor([2, 3, 5, 6], seed: 1), into: y) }
    }

    @Test(arguments: [(1, 1, 1), (2, 3, 5), (1, 4, 7), (3, 6, 1)])
    func resizesMatchTwins(_ s: (Int, Int, Int)) throws {
        let (planes, h, w) = s
        let x = try tensor([1, planes, h, w], seed: 17)
        let up = try Tensor(shape: [1, planes, 2 * h, 2 * w])
        try Resize.upsampleNearest2x(x, into: up)
        #expect(up.values == Naive.upsampleNearest2x(x.values, planes: planes, h: h, w: w))
        let big = try tensor([1, planes, 2 * h + 1, 2 * w], seed: 18)  // odd height: last row dropped
        let down = try Tensor(shape: [1, planes, h, w])
        try Resize.avgPool2x2(big, into: down)
        let cmp = Comparison(down.values, Naive.avgPool2x2(big.values, planes: planes, h: 2 * h + 1, w: 2 * w))
        #expect(cmp.maxAbs <= 2.4e-7, "\(cmp)")  // one Float rounding of a 4-term sum
    }

    @Test func concatCopiesEachPartIntoItsChannels() throws {
        let a = try tensor([2, 3, 4, 5], seed: 19), b = try tensor([2, 1, 4, 5], seed: 20)
        let y = try Tensor(shape: [2, 4, 4, 5])
        try Concat.channels([a, b], into: y)
        for img in 0..<2 {
            #expect(Array(y.values[(img * 80)..<(img * 80 + 60)]) == Array(a.values[(img * 60)..<(img * 60 + 60)]))
            #expect(Array(y.values[(img * 80 + 60)..<(img * 80 + 80)]) == Array(b.values[(img * 20)..<(img * 20 + 20)]))
        }
        let single = try Tensor.zeros([1, 4, 2, 2])
        let slice = try Concat.channelSlice(single, start: 1, count: 2)
        slice.data[0] = 5
        #expect(single.values[4] == 5 && slice.shape == [1, 2, 2, 2])
        #expect(throws: TensorError.self) { _ = try Concat.channelSlice(single, start: 3, count: 2) }
    }

    /// Softmax: max-subtracted, Cephes exp with FMAs (≤ 1.41 ulp), Double sum: 1e-6 absolute (probabilities ≤ 1).
    @Test(arguments: [1, 5, 8, 33, 1000])
    func softmaxMatchesTwin(_ length: Int) throws {
        let x = try tensor([3, length], seed: 21, scale: 20)
        let y = try Tensor(shape: x.shape)
        try Softmax.forward(x, into: y)
        let cmp = Comparison(y.values, Naive.softmax(x.values, length: length))
        #expect(cmp.maxAbs < 1e-6, "\(cmp)")
    }

    /// Arguments reach t·f ≈ 1000 rad, where Float32 rounding of the argument itself is ~6e-5 rad;
    /// the kernel follows the reference's Float32 recipe, the twin is Double, so 2e-4 absolute.
    @Test func timestepEmbeddingMatchesTwin() throws {
        let steps: [Float] = [0, 1, 17, 500, 999]
        for dim in [4, 64, 160, 320] {
            let y = try Tensor(shape: [steps.count, dim])
            try TimestepEmbedding.forward(steps, dim: dim, into: y)
            let cmp = Comparison(y.values, Naive.timestepEmbedding(steps, dim: dim))
            #expect(cmp.maxAbs < 2e-4, "dim \(dim): \(cmp)")
            #expect(y.values[0] == 1 && y.values[dim / 2] == 0, "t = 0 is cos 1, sin 0")
        }
    }
}
