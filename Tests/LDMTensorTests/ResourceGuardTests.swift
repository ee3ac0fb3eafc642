@testable import LDMTensor
import Testing

/// Sizes that a hostile header or a bad configuration could ask for fail with a typed error before
/// any allocation, never a trap or a wrapped-around small buffer.
@Suite struct ResourceGuardTests {
    @Test func overflowingShapesAreTooLarge() {
        for shape in [[Int.max / 2, 4], [1 << 32, 1 << 32], [3, Int.max]] {
            #expect(throws: TensorError.tooLarge(elements: Int.max), "\(shape)") { try Tensor(shape: shape) }
        }
    }

    @Test func byteCountOverflowIsTooLarge() {
        // Fits an Int as elements, not as bytes (× 4).
        #expect(throws: TensorError.tooLarge(elements: 1 << 62)) { try TensorStorage(capacity: 1 << 62) }
    }

    @Test func impossibleAllocationsAreOutOfMemory() {
        // 2^46 floats = 256 TiB: refused by the allocator, reported with the byte count.
        #expect(throws: TensorError.outOfMemory(bytes: 1 << 48)) { try Tensor(shape: [1 << 46]) }
    }

    @Test func negativeSizesAreShapeErrors() {
        #expect(throws: TensorError.self) { try Tensor(shape: [4, -1]) }
    }

    @Test func nonFiniteCountMatchesTheTwin() throws {
        for count in [0, 1, 7, 8, 9, 63, 1000] {
            var values = (0..<count).map { Float($0) * 0.5 - 3 }
            for i in stride(from: 0, to: count, by: 5) { values[i] = [Float.nan, .infinity, -.infinity, .signalingNaN, 1e38][i / 5 % 5] }
            let expected = values.filter { !$0.isFinite }.count
            let got = values.withUnsafeBufferPointer { FastMath.nonFiniteCount($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count) }
            #expect(got == expected, "count \(count)")
        }
    }
}
