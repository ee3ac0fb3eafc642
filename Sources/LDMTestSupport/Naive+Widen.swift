import Foundation

extension Naive {
    /// IEEE binary16 bits → Float32 bits, from the format's definition: sign, 5-bit exponent (bias 15),
    /// 10-bit fraction; value (−1)^s · 2^(e−15) · 1.f, subnormals 2^−14 · 0.f, e = 31 Inf or NaN. A NaN
    /// keeps its sign and payload (the fraction's bits at the top of float's), quiet bit set.
    /// - bits: [count] → [count] float bit patterns
    public static func widenFloat16(_ bits: [UInt16]) -> [UInt32] {
        bits.map { h in
            let sign = (h >> 15) & 1, exponent = Int((h >> 10) & 0x1f), fraction = UInt32(h & 0x3ff)
            let signBit = UInt32(sign) << 31
            if exponent == 31 {
                return fraction == 0 ? signBit | 0x7f80_0000 : signBit | 0x7fc0_0000 | (fraction << 13)
            }
            let magnitude = exponent == 0 ? Double(fraction) * pow(2, -24) : (1 + Double(fraction) / 1024) * pow(2, Double(exponent - 15))
            return signBit | Float(magnitude).bitPattern
        }
    }

    /// bfloat16 bits → Float32 bits: the upper half of a float32, the lower half zero.
    /// - bits: [count] → [count] float bit patterns
    public static func widenBFloat16(_ bits: [UInt16]) -> [UInt32] { bits.map { UInt32($0) << 16 } }
}
