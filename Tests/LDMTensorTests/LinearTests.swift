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

    /// Rows as images: each image's rows come out with the bits of that image multiplied alone, whatever the
    /// batch, and the whole matches the twin. With the images multiplied as one 8192-row product, the first case
    /// fails on an AVX2-only EPYC (OpenBLAS's Zen kernel: the tiles of the two calls end at different rows, and the
    /// last rows of a call get other bits; Scripts/bench/gemm_rows.c); the SkylakeX kernel happens not to show it.
    @Test(arguments: [(2, 4096, 320, 320), (3, 5, 7, 3), (2, 77, 32, 24)])
    func imagesAreMultipliedAlone(_ s: (Int, Int, Int, Int)) throws {
        let (images, rows, inputs, outputs) = s
        let x = try tensor([images * rows, inputs], seed: 53), w = try tensor([outputs, inputs], seed: 54, scale: 0.1)
        let b = try tensor([outputs], seed: 55)
        let y = try Tensor(shape: [images * rows, outputs])
        try Linear.forward(x, weight: w, bias: b, into: y, images: images)
        for image in 0..<images {
            let alone = try Tensor(shape: [rows, inputs], values: Array(x.values[(image * rows * inputs)..<((image + 1) * rows * inputs)]))
            let ya = try Tensor(shape: [rows, outputs])
            try Linear.forward(alone, weight: w, bias: b, into: ya)
            let part = y.values[(image * rows * outputs)..<((image + 1) * rows * outputs)]
            #expect(zip(part, ya.values).allSatisfy { $0.bitPattern == $1.bitPattern }, "image \(image)")
        }
        let expected = Naive.linear(x.values, n: images * rows, inputs: inputs, w.values, outputs: outputs, b.values)
        #expect(Comparison(y.values, expected).maxAbs <= 1e-5 * magnitude(expected))
        #expect(throws: TensorError.self) { try Linear.forward(x, weight: w, bias: b, into: y, images: images * rows + 1) }
    }
}
