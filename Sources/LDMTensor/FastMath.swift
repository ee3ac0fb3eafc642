/// Vectorised transcendental functions for the hot loops (softmax, SiLU).
///
/// `exp` is the Cephes `expf` algorithm (range reduction by n·ln 2 split in two constants, degree-5
/// polynomial on [−ln2/2, ln2/2], scaling by 2^n through the exponent bits): about 1 ulp from the
/// correctly rounded result, like the SLEEF-style vector exp PyTorch uses, and 8 lanes at a time.
public enum FastMath {
    public typealias Vector = SIMD8<Float>

    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        // Beyond these, expf over/underflows; clamping keeps the bit tricks in range.
        var x = x.clamped(lowerBound: Vector(repeating: -87.33654), upperBound: Vector(repeating: 88.72283))
        let n = (x * 1.44269504088896341).rounded(.toNearestOrEven)
        x = x - n * 0.693359375
        x = x - n * -2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * x + 1.3981999507e-3
        p = p * x + 8.3334519073e-3
        p = p * x + 4.1665795894e-2
        p = p * x + 1.6666665459e-1
        p = p * x + 5.0000001201e-1
        let y = p * x * x + x + 1
        // 2^n assembled in two halves so n = -127 (denormal results) stays representable.
        let ni = SIMD8<Int32>(n)
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
}
