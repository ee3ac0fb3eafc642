import LDMTensor
import LDMTestSupport
import Testing

@Suite struct LinearTests {
    @Test(arguments: [(1, 1, 1), (2, 7, 3), (5, 160, 640), (3, 640, 640)])
    func matchesTwin(_ s: (Int, Int, Int)) throws {
        let (n, inputs, outputs) = s
        let x = try tensor([n, inputs], seed: 50), w = try tensor([outputs, inputs], seed: 51, scale: 0.1)
        let b = try tensor([outputs], seed: 52)
        for bias in [b, nil] as [Tensor?] {
            let y = try Tensor(shape: [n, outputs])
            try Linear.forward(x, weight: w, bias: bias, into: y)
            let expected = Naive.linear(x.values, n: n, inputs: inputs, w.values, outputs: outputs, bias?.values)
            let cmp = Comparison(y.values, expected)
            #expect(cmp.maxAbs <= 1e-5 * magnitude(expected), "\(cmp)")
        }
    }
}
