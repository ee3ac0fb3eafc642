import LDMParallel
import LDMTensor
import LDMTestSupport

func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1) throws -> Tensor {
    try Tensor(shape: shape, values: testValues(shape.reduce(1, *), seed: seed, scale: scale))
}

/// Largest |value|, at least 1 (so relative bounds do not blow up on tiny outputs).
func magnitude(_ values: [Float]) -> Double { max(1, values.map { abs(Double($0)) }.max() ?? 0) }

/// Number of positions where two arrays differ bitwise (a short failure message, unlike ==).
func mismatches(_ a: [Float], _ b: [Float]) -> Int {
    a.count != b.count ? max(a.count, b.count) : zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
}
