#if canImport(Glibc)
import Glibc
#endif

/// PyTorch's CPU random generator, reproduced bit for bit: `torch.manual_seed(seed)` followed by
/// `torch.randn(...)` calls gives the same Float32 values, drawn as one stream.
///
/// What PyTorch does (ATen `CPUGeneratorImpl`, `MT19937RNGEngine.h`, `DistributionTemplates.h`):
/// - the engine is the reference MT19937, seeded with the low 32 bits of the seed;
///   `random()` is one draw, `random64()` two draws as (first << 32) | second;
/// - float uniforms are `(random() & (2^24 − 1)) · 2^−24`, double ones `(random64() & (2^53 − 1)) · 2^−53`;
/// - `randn` of ≥ 16 contiguous floats fills the whole buffer with uniforms first, then turns each
///   block of 16 into normals by Box–Muller over the pairs (j, j + 8); when the size is not a
///   multiple of 16 the last 16 values are redrawn and recomputed (overlapping the previous block);
///   on x86 CPUs with AVX2 (and without MKL's VSL path, i.e. non-Intel) the transcendental functions
///   are avx_mathfun.h's Cephes polynomials as compiled with fused multiply-adds — reproduced here;
/// - fewer than 16 values come one at a time from `normal_distribution<double>` (two double
///   uniforms, r = √(−2 log1p(−u2)), θ = 2π u1, returns r cos θ and caches r sin θ for the next
///   call), narrowed to float.
public struct TorchGenerator: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624
    private var cachedNormal: Double?

    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    public mutating func random() -> UInt32 {
        if index == 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    public mutating func random64() -> UInt64 {
        let high = UInt64(random()), low = UInt64(random())
        return high << 32 | low
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = y >> 1
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = state[(i + 397) % 624] ^ v
        }
        index = 0
    }

    mutating func uniformFloat() -> Float { Float(random() & 0xFF_FFFF) * (1.0 / 16_777_216.0) }

    mutating func uniformDouble() -> Double { Double(random64() & ((1 << 53) - 1)) * 0x1p-53 }

    /// `torch.randn(count)` (any shape with that many elements), continuing the stream.
    public mutating func normal(_ count: Int) -> [Float] {
        guard count >= 16 else { return (0..<count).map { _ in Float(normalDouble()) } }
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count { data[i] = uniformFloat() }
        var i = 0
        while i + 16 <= count {
            Self.boxMuller16(&data, at: i)
            i += 16
        }
        if count % 16 != 0 {
            for j in (count - 16)..<count { data[j] = uniformFloat() }
            Self.boxMuller16(&data, at: count - 16)
        }
        return data
    }

    private mutating func normalDouble() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = r * sin(theta)
        return r * cos(theta)
    }

    /// normal_fill_16_AVX2: data[j], data[j + 8] ← Box–Muller(1 − data[j], data[j + 8]).
    static func boxMuller16(_ data: inout [Float], at base: Int) {
        let twoPi = Float(2.0 * Double.pi)
        for j in 0..<8 {
            let u1 = 1 - data[base + j], u2 = data[base + j + 8]
            let radius = (-2 * CephesFloat.log(u1)).squareRoot()
            let (s, c) = CephesFloat.sincos(twoPi * u2)
            data[base + j] = radius * c
            data[base + j + 8] = radius * s
        }
    }
}

/// avx_mathfun.h's `log256_ps` and `sincos256_ps` (Cephes single precision), one lane, with the
/// multiply-adds fused the way the released PyTorch build compiles them (each multiply feeding an
/// add is one FMA; the cosine polynomial's last multiply fuses into its subtraction).
enum CephesFloat {
    static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { c.addingProduct(a, b) }

    static func log(_ input: Float) -> Float {
        let invalid = input <= 0
        var x = max(input, Float(bitPattern: 0x0080_0000))
        var exponent = Int32(bitPattern: x.bitPattern >> 23) - 0x7F
        x = Float(bitPattern: (x.bitPattern & ~0x7F80_0000) | Float(0.5).bitPattern)
        var e = Float(exponent) + 1
        exponent = 0
        let below = x < 0.707106781186547524
        let tmp: Float = below ? x : 0
        x -= 1
        if below { e -= 1 }
        x += tmp
        let z = x * x
        var y: Float = 7.0376836292e-2
        y = fma(y, x, -1.1514610310e-1)
        y = fma(y, x, 1.1676998740e-1)
        y = fma(y, x, -1.2420140846e-1)
        y = fma(y, x, 1.4249322787e-1)
        y = fma(y, x, -1.6668057665e-1)
        y = fma(y, x, 2.0000714765e-1)
        y = fma(y, x, -2.4999993993e-1)
        y = fma(y, x, 3.3333331174e-1)
        y = y * x
        y = fma(y, z, e * -2.12194440e-4)
        y = fma(z, -0.5, y)
        x = x + y
        x = fma(e, 0.693359375, x)
        return invalid ? .nan : x
    }

    static func sincos(_ theta: Float) -> (sin: Float, cos: Float) {
        var signSin = theta.bitPattern & 0x8000_0000
        var x = Float(bitPattern: theta.bitPattern & 0x7FFF_FFFF)
        var j = Int32(x * 1.27323954473516)  // 4/π, truncated as cvttps
        j = (j + 1) & ~1
        let y = Float(j)
        signSin ^= UInt32(bitPattern: j & 4) << 29
        let polynomialSwap = (j & 2) == 0
        let signCos = UInt32(bitPattern: ~(j - 2) & 4) << 29
        x = fma(y, -0.78515625, x)
        x = fma(y, -2.4187564849853515625e-4, x)
        x = fma(y, -3.77489497744594108e-8, x)
        let z = x * x
        var c = fma(2.443315711809948e-5, z, -1.388731625493765e-3)
        c = fma(c, z, 4.166664568298827e-2)
        c = c * z
        c = fma(c, z, -(z * 0.5))
        c = c + 1
        var s = fma(-1.9515295891e-4, z, 8.3321608736e-3)
        s = fma(s, z, -1.6666654611e-1)
        s = s * z
        s = fma(s, x, x)
        let sinValue = polynomialSwap ? s : c, cosValue = polynomialSwap ? c : s
        return (Float(bitPattern: sinValue.bitPattern ^ signSin), Float(bitPattern: cosValue.bitPattern ^ signCos))
    }
}
