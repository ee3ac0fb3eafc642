import LDMParallel
@testable import LDMTensor
import LDMTestSupport
import Testing

/// `Conv2d.forward(weight: WeightTensor…)`: a convolution with its weight held in 16 bits (widened per GEMM tile on
/// the pointwise and im2col paths, per block in Winograd's weight transform, whole on the banded path) gives the bits
/// of the same convolution on the weight widened to Float32 first, on every strategy, for 1 and 2 threads.
@Suite struct Conv2dWeightTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let n, c, h, w, o, kernel, stride, pad: Int
        let strategy: Conv2d.Strategy
        /// Tiles of the GEMM's rows (output channels) on the GEMM paths: > 1 is the per-tile widening.
        let rowTiles: Int
        /// im2col floats allowed per group of images (`Conv2d.convolve`'s `groupColumns`).
        let groupColumns: Int
        var description: String { name }
    }

    static let cases = [
        // 1030 output channels over 64 pixels of 3 images: two row tiles of 515, tile edges not multiples of a vector.
        Case(name: "pointwise, rows split", n: 3, c: 600, h: 8, w: 8, o: 1030, kernel: 1, stride: 1, pad: 0,
             strategy: .pointwise, rowTiles: 2, groupColumns: 4 * Conv2d.columnBudget),
        // 3 images in groups of 2 and 1 (the budget holds two images' columns): the second group's offsets.
        Case(name: "im2col, rows split, image groups", n: 3, c: 64, h: 10, w: 10, o: 520, kernel: 3, stride: 1, pad: 1,
             strategy: .im2colGEMM, rowTiles: 2, groupColumns: 2 * 576 * 100),
        Case(name: "im2col, not split", n: 2, c: 5, h: 9, w: 7, o: 6, kernel: 3, stride: 2, pad: 1,
             strategy: .im2colGEMM, rowTiles: 1, groupColumns: 4 * Conv2d.columnBudget),
        // 480 (o, c) pairs: three whole blocks of 128 pairs and a ragged one.
        Case(name: "winograd", n: 2, c: 24, h: 40, w: 33, o: 20, kernel: 3, stride: 1, pad: 1,
             strategy: .winograd(tileRowsPerBand: Winograd.tileRowsPerBand(c: 24, o: 20, h: 40, w: 33)), rowTiles: 1,
             groupColumns: 4 * Conv2d.columnBudget),
        Case(name: "banded", n: 1, c: 8, h: 130, w: 130, o: 12, kernel: 3, stride: 2, pad: 1,
             strategy: .bandedIm2colGEMM(rowsPerBand: 17), rowTiles: 1, groupColumns: 4 * Conv2d.columnBudget),
    ]

    @Test(arguments: cases)
    func heldWeightGivesTheBitsOfTheWidenedWeight(_ t: Case) throws {
        let padding = Conv2d.Padding.symmetric(t.pad)
        let ho = Conv2d.outputSize(t.h, kernel: t.kernel, stride: t.stride, padBefore: t.pad, padAfter: t.pad)
        let wo = Conv2d.outputSize(t.w, kernel: t.kernel, stride: t.stride, padBefore: t.pad, padAfter: t.pad)
        #expect(Conv2d.strategy(channels: t.c, outputChannels: t.o, kernelH: t.kernel, kernelW: t.kernel, stride: t.stride,
                                padding: padding, outputHeight: ho, outputWidth: wo, winograd: true) == t.strategy,
                "the case covers the strategy it names")
        if t.strategy == .pointwise || t.strategy == .im2colGEMM {
            let k = t.c * t.kernel * t.kernel
            #expect(BLAS.tiles(m: t.o, n: ho * wo, k: k).rows == t.rowTiles, "the case covers the tiling it names")
        }
        let x = try tensor([t.n, t.c, t.h, t.w], seed: 91), bias = try tensor([t.o], seed: 92)
        for precision in [WeightTensor.Precision.float16, .bfloat16, .float32] {
            let weight = try BLASWeightTests.weight([t.o, t.c, t.kernel, t.kernel], seed: 93, precision: precision)
            let expected = try Tensor(shape: [t.n, t.o, ho, wo])
            try Conv2d.forward(x, weight: try weight.float32(), bias: bias, stride: t.stride, padding: padding, into: expected,
                               workspace: Workspace(), winograd: true)
            for threads in [1, 2] {
                let y = try Tensor(shape: [t.n, t.o, ho, wo])
                try Parallel.run(threads: threads) {
                    try Conv2d.convolve(x, weight: weight, bias: bias, stride: t.stride, padding: padding, into: y,
                                        workspace: Workspace(), winograd: true, groupColumns: t.groupColumns)
                }
                #expect(mismatches(y.values, expected.values) == 0, "\(t), \(precision), \(threads) thread(s)")
            }
        }
    }

    /// The 16-bit path against the naive convolution too (the Float32 path's own tests cover the rest).
    @Test func heldWeightMatchesTheNaiveConvolution() throws {
        let x = try tensor([2, 64, 10, 10], seed: 94)
        let weight = try BLASWeightTests.weight([520, 64, 3, 3], seed: 95, precision: .float16)
        let y = try Conv2d.forward(x, weight: weight, bias: nil, padding: .symmetric(1), workspace: Workspace())
        let w = try weight.float32()
        let reference = Naive.conv2d(x.values, x.shape, w.values, w.shape, nil, stride: 1, padding: .symmetric(1)).values
        let worst = zip(y.values, reference).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(worst <= Conv2dTests.tolerance * magnitude(reference), "largest difference \(worst)")
    }

    @Test func aWeightOfTheWrongShapeIsRefused() throws {
        let x = try tensor([1, 4, 6, 6], seed: 96)
        let weight = try BLASWeightTests.weight([8, 5, 3, 3], seed: 97, precision: .float16)
        #expect(throws: TensorError.self) {
            try Conv2d.forward(x, weight: weight, bias: nil, padding: .symmetric(1), workspace: Workspace())
        }
    }
}
