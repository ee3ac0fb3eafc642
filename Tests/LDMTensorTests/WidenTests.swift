import LDMParallel
@testable import LDMTensor
import LDMTestSupport
import Testing

/// The 16-bit → Float32 widening kernels (`Widen`, `WeightTensor`) against their plain twins
/// (`Naive.widenFloat16`, `Naive.widenBFloat16`), bit for bit: every one of the 65,536 patterns
/// (NaNs, ±Inf, subnormals, ±0 included) at every SIMD level this CPU runs, lengths around every
/// vector width, and 1 vs 2 threads.
@Suite struct WidenTests {
    static let allPatterns = (0...UInt16.max).map { $0 }

    /// Lengths around 4, 8 and 16 lanes and the parallel chunk (65,536), from 0.
    static let lengths = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 100, 1023, 65_535, 65_537, 131_075]

    static func bits(_ count: Int, seed: UInt64) -> [UInt16] {
        var state = seed | 1
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt16(truncatingIfNeeded: state >> 40)
        }
    }

    static func widened(_ bits: [UInt16], simd: SIMDLevel? = nil, bfloat: Bool = false) -> [UInt32] {
        var out = [Float](repeating: -1, count: bits.count + 1)  // one guard element past the end
        bits.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                guard let source = x.baseAddress, let destination = y.baseAddress else { return }
                if bfloat {
                    Widen.bfloat16(source, into: destination, count: bits.count)
                } else {
                    Widen.float16(source, into: destination, count: bits.count, simd: simd ?? .active)
                }
            }
        }
        #expect(out.last == -1, "wrote past the end")
        return out.dropLast().map(\.bitPattern)
    }

    @Test(arguments: SIMDLevel.available)
    func everyHalfPatternMatchesTheTwin(_ level: SIMDLevel) {
        let got = Self.widened(Self.allPatterns, simd: level), expected = Naive.widenFloat16(Self.allPatterns)
        let wrong = zip(got, expected).enumerated().filter { $1.0 != $1.1 }
        #expect(wrong.isEmpty, "\(level): \(wrong.count) patterns differ, first \(wrong.prefix(3).map { (String($0.offset, radix: 16), String($0.element.0, radix: 16), String($0.element.1, radix: 16)) })")
    }

    /// Today's load path (Swift's `Float(Float16(bitPattern:))`) gives the same bits for every
    /// non-NaN pattern: a weight widened per call equals the one widened at load.
    @Test func agreesWithSwiftsConversionOnNonNaN() {
        let got = Self.widened(Self.allPatterns)
        for (h, bits) in zip(Self.allPatterns, got) where !Float16(bitPattern: h).isNaN {
            #expect(bits == Float(Float16(bitPattern: h)).bitPattern, "pattern \(String(h, radix: 16))")
        }
        // Spot checks of the classes the sweep covers.
        #expect(Float(bitPattern: Self.widened([0x0001])[0]) == 0x1p-24)  // smallest subnormal
        #expect(Self.widened([0x8000])[0] == 0x8000_0000)  // −0
        #expect(Self.widened([0x7c00, 0xfc00]) == [0x7f80_0000, 0xff80_0000])  // ±Inf
        #expect(Self.widened([0x7c01])[0] == 0x7fc0_2000)  // signalling NaN made quiet, payload kept
    }

    @Test func everyBFloatPatternMatchesTheTwin() {
        #expect(Self.widened(Self.allPatterns, bfloat: true) == Naive.widenBFloat16(Self.allPatterns))
    }

    @Test(arguments: lengths)
    func oddLengthsAtEveryLevelAndThreadCount(_ count: Int) {
        let bits = Self.bits(count, seed: UInt64(count) + 7)
        let expected = Naive.widenFloat16(bits)
        for level in SIMDLevel.available {
            for threads in [1, 2] {
                let got = Parallel.run(threads: threads) { Self.widened(bits, simd: level) }
                #expect(got == expected, "\(count) elements, \(level), \(threads) threads")
            }
        }
        #expect(Parallel.run(threads: 2) { Self.widened(bits, bfloat: true) } == Naive.widenBFloat16(bits))
    }

    /// A 16-bit weight used through `float32(in:)` gives the kernel the same bits as a Float32 weight
    /// holding the widened values, and rows read with `widen(elements:)` are the same values.
    @Test(arguments: [WeightTensor.Precision.float16, .bfloat16])
    func weightTensorWidensIntoScratch(_ precision: WeightTensor.Precision) throws {
        let shape = [5, 3, 3, 3], count = 135
        let raw = Self.bits(count, seed: 3).map { $0 & 0xbfff }  // no Inf/NaN: exponent below all ones
        let storage = try HalfStorage(capacity: count)
        storage.pointer.update(from: raw, count: count)
        let w = try WeightTensor(shape: shape, precision: precision, storage: storage)
        let expected = precision == .float16 ? Naive.widenFloat16(raw) : Naive.widenBFloat16(raw)
        #expect(w.bytes == 2 * count && w.nonFiniteCount() == 0)
        let ws = Workspace()
        let t = try w.float32(in: ws)
        #expect(t.shape == shape)
        #expect(t.values.map(\.bitPattern) == expected)
        #expect(try w.float32().values.map(\.bitPattern) == expected)
        let row = try Tensor(shape: [27])
        w.widen(elements: 54..<81, into: row.data)
        #expect(row.values.map(\.bitPattern) == Array(expected[54..<81]))
        // A Float32 weight is handed over as it is, no copy.
        let f = try Tensor(shape: shape)
        let held = WeightTensor(f)
        #expect(try held.float32(in: ws).storage === f.storage)
    }

    @Test func nonFiniteCountOnStoredBits() throws {
        let count = 70_001
        for precision in [WeightTensor.Precision.float16, .bfloat16] {
            let storage = try HalfStorage(capacity: count)
            for i in 0..<count { storage.pointer[i] = 0x3c00 }
            let inf: UInt16 = precision == .float16 ? 0x7c00 : 0x7f80, nan: UInt16 = precision == .float16 ? 0xfe01 : 0xffc1
            for i in [0, 15, 16, 65_535, 65_536, 70_000] { storage.pointer[i] = i % 2 == 0 ? inf : nan }
            let w = try WeightTensor(shape: [count], precision: precision, storage: storage)
            #expect(w.nonFiniteCount() == 6, "\(precision)")
        }
    }

    @Test func stackingKeepsOrMixesPrecisions() throws {
        func half(_ values: [UInt16], rows: Int) throws -> WeightTensor {
            let s = try HalfStorage(capacity: values.count)
            s.pointer.update(from: values, count: values.count)
            return try WeightTensor(shape: [rows, values.count / rows], precision: .float16, storage: s)
        }
        let a = try half([0x3c00, 0x4000], rows: 1), b = try half([0x4200, 0x4400, 0xc000, 0x0001], rows: 2)
        let stacked = try WeightTensor.stacking([a, b])
        #expect(stacked.shape == [3, 2] && stacked.precision == .float16)
        #expect(try stacked.float32().values == [1, 2, 3, 4, -2, 0x1p-24])
        let mixed = try WeightTensor.stacking([a, WeightTensor(try Tensor(shape: [1, 2], values: [7, 8]))])
        #expect(mixed.precision == .float32)
        #expect(try mixed.float32().values == [1, 2, 7, 8])
        #expect(throws: TensorError.self) { try WeightTensor.stacking([a, try half([1, 2, 3], rows: 1)]) }
    }
}
