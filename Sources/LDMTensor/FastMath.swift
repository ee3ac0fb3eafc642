/// Vectorised transcendental functions and reductions for the hot loops (SiLU, GroupNorm; softmax's exponent
/// pass is the C kernel `ldm_softmax_exp`, this exp's constants evaluated with FMAs: `ldm_exp_nonpositive`).
///
/// Written with the 8-lane SIMD type and only operations that LLVM lowers to vector instructions
/// (no SIMD float→int conversions or `rounded(_:)`, which the standard library scalarises).
public enum FastMath {
    public typealias Vector = SIMD8<Float>

    /// Cephes `expf`: x = n·ln2 + r with n rounded by the 1.5·2^23 trick and ln2 split in two
    /// constants, a degree-5 polynomial on |r| ≤ ln2/2, and 2^n built in the exponent bits (in two
    /// halves so that n = −127 stays representable). Within 2 ulp of the correctly rounded value
    /// (tested), like the SLEEF-style vector exp PyTorch uses.
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        var x = x.replacing(with: 88.3762626647949, where: x .> 88.3762626647949)
            .replacing(with: -87.3365478515625, where: x .< -87.3365478515625)
        let shifted = x * 1.44269504088896341 + 12582912
        let n = shifted - 12582912
        x = x - n * 0.693359375
        x = x - n * -2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * x + 1.3981999507e-3
        p = p * x + 8.3334519073e-3
        p = p * x + 4.1665795894e-2
        p = p * x + 1.6666665459e-1
        p = p * x + 5.0000001201e-1
        let y = p * x * x + x + 1
        // The low mantissa bits of `shifted` hold n in two's complement.
        let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: Vector.self)
        return y * scale1 * scale2
    }

    /// exp for one value through the same polynomial (tails of vector loops).
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// x · sigmoid(x) = x / (1 + e^−x).
    @inlinable @inline(__always)
    public static func silu(_ x: Vector) -> Vector { x / (1 + exp(-x)) }

    @inlinable @inline(__always)
    public static func silu(_ x: Float) -> Float { silu(Vector(repeating: x))[0] }

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inlinable @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

    /// How many of p[0..<count] are NaN or ±Inf (exponent bits all ones), 8 lanes at a time.
    public static func nonFiniteCount(_ p: UnsafePointer<Float>, count: Int) -> Int {
        let exponent = SIMD8<UInt32>(repeating: 0x7f80_0000)
        var lanes = SIMD8<UInt32>()
        var i = 0
        while i + 8 <= count {
            let bits = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<UInt32>.self)
            lanes &+= SIMD8<UInt32>(repeating: 1) & ((bits & exponent) .== exponent).asUInt32
            i += 8
        }
        var total = Int(lanes.wrappedSum())
        while i < count {
            if !p[i].isFinite { total += 1 }
            i += 1
        }
        return total
    }

    /// Elements per partial sum: lanes accumulate in Float over a chunk (error ~chunk/8·ε), and the
    /// chunks are added in Double, so long reductions stay accurate. Fixed order: deterministic.
    @usableFromInline static let chunk = 512

    /// Σ (p[i] − offset)^power for power 1 or 2, in the fixed chunked order above.
    @inlinable
    static func sum(_ p: UnsafePointer<Float>, count: Int, offset: Float = 0, squared: Bool = false) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + chunk)
            var lanes = Vector()
            var i = start
            while i + 8 <= end {
                let d = load(p + i) - offset
                lanes += squared ? d * d : d
                i += 8
            }
            var partial = lanes.sum()
            while i < end {
                let d = p[i] - offset
                partial += squared ? d * d : d
                i += 1
            }
            total += Double(partial)
            start = end
        }
        return total
    }
}

extension SIMDMask where Storage == SIMD8<Int32> {
    /// 1 where set, 0 where clear.
    @inlinable var asUInt32: SIMD8<UInt32> { SIMD8<UInt32>(truncatingIfNeeded: SIMD8<Int32>(repeating: 0).replacing(with: 1, where: self)) }
}
