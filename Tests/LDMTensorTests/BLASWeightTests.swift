import LDMParallel
@testable import LDMTensor
import LDMTestSupport
import Testing

/// `BLAS.sgemm(weight:…)` and `Linear.forward(weight: WeightTensor…)`: 16-bit weights widened tile by tile give the
/// bits of the same product on the weight widened whole first, on shapes whose tile grid splits the weight's rows
/// (few rows against many output features, uneven tile edges) and on shapes where it does not, for 1 and 2 threads.
@Suite struct BLASWeightTests {
    /// The weight of `shape` with random values, held as `precision` (16-bit: its bits; Float32: as is).
    static func weight(_ shape: [Int], seed: UInt64, precision: WeightTensor.Precision) throws -> WeightTensor {
        let values = try tensor(shape, seed: seed, scale: 2)
        guard precision != .float32 else { return WeightTensor(values) }
        let storage = try HalfStorage(capacity: values.count)
        for i in 0..<values.count {
            storage.pointer[i] = precision == .float16 ? Float16(values.data[i]).bitPattern
                : UInt16(truncatingIfNeeded: values.data[i].bitPattern >> 16)
        }
        return try WeightTensor(shape: shape, precision: precision, storage: storage)
    }

    /// (m, n, k, tiles of W's rows) for `.rightTransposed` (a linear layer: m rows against n output features): the
    /// first three split W's rows (2 and 4 tiles, edges not multiples of anything), the last two do not (m > n: the
    /// rows of x are split; a product too small to split).
    static let linearShapes = [(16, 4100, 700, 2), (64, 2047, 500, 4), (17, 4100, 900, 4), (700, 300, 64, 1), (5, 7, 3, 1)]

    @Test(arguments: linearShapes)
    func linearWidenedPerTileEqualsWidenedWhole(_ shape: (Int, Int, Int, Int)) throws {
        let (m, n, k, parts) = shape
        #expect(BLAS.tiles(m: m, n: n, k: k).columns == parts, "the case covers what it says")
        let x = try tensor([2 * m, k], seed: 81), bias = try tensor([n], seed: 82)
        for precision in [WeightTensor.Precision.float16, .bfloat16, .float32] {
            let w = try Self.weight([n, k], seed: 83, precision: precision)
            let whole = try Tensor(shape: [2 * m, n])
            try Linear.forward(x, weight: try w.float32(), bias: bias, into: whole, images: 2)
            for threads in [1, 2] {
                let tiled = try Tensor(shape: [2 * m, n])
                try Parallel.run(threads: threads) {
                    try Linear.forward(x, weight: w, bias: bias, into: tiled, images: 2, workspace: Workspace())
                }
                #expect(mismatches(tiled.values, whole.values) == 0, "\(precision), \(threads) thread(s), \(shape)")
            }
        }
    }

    /// `.left` (a convolution's weights [m, k] times columns [k, n]): W's rows split in 4 and 2 tiles, and not (m < n).
    @Test(arguments: [(2050, 70, 600, 4), (1030, 64, 400, 2), (16, 900, 27, 1)])
    func leftWeightWidenedPerTileEqualsWidenedWhole(_ shape: (Int, Int, Int, Int)) throws {
        let (m, n, k, parts) = shape
        #expect(BLAS.tiles(m: m, n: n, k: k).rows == parts, "the case covers what it says")
        let b = try tensor([k, n + 3], seed: 84)  // rows n + 3 apart: a leading dimension wider than the product
        let w = try Self.weight([m, k], seed: 85, precision: .float16)
        let widened = try w.float32()
        let whole = try Tensor(shape: [m, n]), tiled = try Tensor(shape: [m, n])
        BLAS.sgemm(m: m, n: n, k: k, a: widened.data, lda: k, b: b.data, ldb: n + 3, c: whole.data, ldc: n)
        try BLAS.sgemm(weight: w, side: .left, m: m, n: n, k: k, other: b.data, ldOther: n + 3, c: tiled.data, ldc: n,
                       workspace: Workspace())
        #expect(mismatches(tiled.values, whole.values) == 0, "\(shape)")
    }

    @Test func aWeightOfTheWrongSizeIsRefused() throws {
        let w = try Self.weight([4, 5], seed: 86, precision: .float16)
        let x = try tensor([3, 6], seed: 87), y = try Tensor(shape: [3, 4])
        #expect(throws: TensorError.self) { try Linear.forward(x, weight: w, bias: nil, into: y, workspace: Workspace()) }
    }
}
