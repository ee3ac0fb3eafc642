import Foundation
import LDMTensor

/// Plain, obviously-correct twins of the LDMTensor kernels: nested loops straight from the
/// definitions, Double accumulation, no blocking, no BLAS, no threads. They take and return
/// `[Double]`/`[Float]` arrays with explicit shapes so they share no code with the kernels.
public enum Naive {
    /// - x: [N, C, H, W], w: [O, C, kH, kW], b: [O] → [N, O, Ho, Wo]
    public static func conv2d(_ x: [Float], _ xs: [Int], _ w: [Float], _ ws: [Int], _ b: [Float]?, stride: Int,
                              padding: Conv2d.Padding) -> (values: [Float], shape: [Int]) {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (o, kh, kw) = (ws[0], ws[2], ws[3])
        let ho = (h + padding.top + padding.bottom - kh) / stride + 1
        let wo = (wd + padding.left + padding.right - kw) / stride + 1
        var y = [Float](repeating: 0, count: n * o * ho * wo)
        for img in 0..<n {
            for oc in 0..<o {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum = Double(b?[oc] ?? 0)
                        for ic in 0..<c {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let iy = oy * stride - padding.top + i, ix = ox * stride - padding.left + j
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    sum += Double(x[((img * c + ic) * h + iy) * wd + ix]) * Double(w[((oc * c + ic) * kh + i) * kw + j])
                                }
                            }
                        }
                        y[((img * o + oc) * ho + oy) * wo + ox] = Float(sum)
                    }
                }
            }
        }
        return (y, [n, o, ho, wo])
    }

    /// - x: [N, In], w: [Out, In], b: [Out] → [N, Out]
    public static func linear(_ x: [Float], n: Int, inputs: Int, _ w: [Float], outputs: Int, _ b: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: n * outputs)
        for r in 0..<n {
            for o in 0..<outputs {
                var sum = Double(b?[o] ?? 0)
                for i in 0..<inputs { sum += Double(x[r * inputs + i]) * Double(w[o * inputs + i]) }
                y[r * outputs + o] = Float(sum)
            }
        }
        return y
    }

    /// - x: [N, C, S] (S = product of spatial dims), gamma, beta: [C] → same shape
    public static func groupNorm(_ x: [Float], n: Int, c: Int, spatial: Int, groups: Int, gamma: [Float], beta: [Float],
                                 eps: Float, silu: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        let per = c / groups
        for img in 0..<n {
            for g in 0..<groups {
                var values: [Double] = []
                for ch in (g * per)..<((g + 1) * per) {
                    for s in 0..<spatial { values.append(Double(x[(img * c + ch) * spatial + s])) }
                }
                let mean = values.reduce(0, +) / Double(values.count)
                let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
                for ch in (g * per)..<((g + 1) * per) {
                    for s in 0..<spatial {
                        let i = (img * c + ch) * spatial + s
                        var v = (Double(x[i]) - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[ch]) + Double(beta[ch])
                        if silu { v = v / (1 + Foundation.exp(-v)) }
                        y[i] = Float(v)
                    }
                }
            }
        }
        return y
    }

    /// x · s and x / s computed in Double and rounded once to Float: for a product or quotient of two
    /// Floats this double rounding is innocuous (53 ≥ 2·24 + 2 bits), so it is the correctly rounded result.
    public static func scale(_ x: [Float], _ s: Float) -> [Float] { x.map { Float(Double($0) * Double(s)) } }
    public static func divide(_ x: [Float], _ s: Float) -> [Float] { x.map { Float(Double($0) / Double(s)) } }

    public static func silu(_ x: [Float]) -> [Float] { x.map { Float(Double($0) / (1 + Foundation.exp(-Double($0)))) } }

    /// Rows of length `length`.
    public static func softmax(_ x: [Float], length: Int, scale: Double = 1) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for row in 0..<(x.count / length) {
            let r = (0..<length).map { Double(x[row * length + $0]) * scale }
            let m = r.max()!
            let e = r.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for i in 0..<length { y[row * length + i] = Float(e[i] / s) }
        }
        return y
    }

    /// - x: [P, H, W] planes → [P, 2H, 2W]
    public static func upsampleNearest2x(_ x: [Float], planes: Int, h: Int, w: Int) -> [Float] {
        var y = [Float](repeating: 0, count: planes * 4 * h * w)
        for p in 0..<planes { for oy in 0..<(2 * h) { for ox in 0..<(2 * w) {
            y[(p * 2 * h + oy) * 2 * w + ox] = x[(p * h + oy / 2) * w + ox / 2]
        } } }
        return y
    }

    /// - x: [P, H, W] planes → [P, H/2, W/2]
    public static func avgPool2x2(_ x: [Float], planes: Int, h: Int, w: Int) -> [Float] {
        let (ho, wo) = (h / 2, w / 2)
        var y = [Float](repeating: 0, count: planes * ho * wo)
        for p in 0..<planes { for oy in 0..<ho { for ox in 0..<wo {
            var s = 0.0
            for i in 0..<2 { for j in 0..<2 { s += Double(x[(p * h + 2 * oy + i) * w + 2 * ox + j]) } }
            y[(p * ho + oy) * wo + ox] = Float(s / 4)
        } } }
        return y
    }

    /// Per-head attention from explicit q, k, v of shape [N, C, T]; heads own d = C/heads channels each.
    public static func attention(q: [Float], k: [Float], v: [Float], n: Int, c: Int, t: Int, heads: Int) -> [Float] {
        let d = c / heads
        var out = [Float](repeating: 0, count: n * c * t)
        let scale = 1 / Double(d).squareRoot()
        for img in 0..<n {
            for h in 0..<heads {
                func at(_ a: [Float], _ i: Int, _ s: Int) -> Double { Double(a[(img * c + h * d + i) * t + s]) }
                for query in 0..<t {
                    var scores = (0..<t).map { key in (0..<d).reduce(0.0) { $0 + at(q, $1, query) * at(k, $1, key) } * scale }
                    let m = scores.max()!
                    scores = scores.map { Foundation.exp($0 - m) }
                    let total = scores.reduce(0, +)
                    for i in 0..<d {
                        let value = (0..<t).reduce(0.0) { $0 + scores[$1] / total * at(v, i, $1) }
                        out[(img * c + h * d + i) * t + query] = Float(value)
                    }
                }
            }
        }
        return out
    }

    /// Splits a legacy qkv tensor [N, 3C, T] (rows [q_h; k_h; v_h] per head) into q, k, v [N, C, T].
    public static func splitLegacyQKV(_ qkv: [Float], n: Int, c: Int, t: Int, heads: Int) -> (q: [Float], k: [Float], v: [Float]) {
        let d = c / heads
        var parts = [[Float]](repeating: [Float](repeating: 0, count: n * c * t), count: 3)
        for img in 0..<n { for h in 0..<heads { for part in 0..<3 { for i in 0..<d { for s in 0..<t {
            parts[part][(img * c + h * d + i) * t + s] = qkv[((img * 3 * c) + h * 3 * d + part * d + i) * t + s]
        } } } } }
        return (parts[0], parts[1], parts[2])
    }

    /// [cos(t·f_k), sin(t·f_k)] with f_k = 10000^(−k/half), in Double.
    public static func timestepEmbedding(_ timesteps: [Float], dim: Int) -> [Float] {
        let half = dim / 2
        var y = [Float](repeating: 0, count: timesteps.count * dim)
        for (r, t) in timesteps.enumerated() {
            for k in 0..<half {
                let a = Double(t) * Foundation.exp(-Foundation.log(10000) * Double(k) / Double(half))
                y[r * dim + k] = Float(Foundation.cos(a))
                y[r * dim + half + k] = Float(Foundation.sin(a))
            }
        }
        return y
    }
}

extension Naive {
    /// nn.LayerNorm over the last dimension, biased variance. - x: [R, C], gamma, beta: [C] → [R, C]
    public static func layerNorm(_ x: [Float], c: Int, gamma: [Float], beta: [Float], eps: Float) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<(x.count / c) {
            let row = (0..<c).map { Double(x[r * c + $0]) }
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(c)
            for i in 0..<c { y[r * c + i] = Float((row[i] - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[i]) + Double(beta[i])) }
        }
        return y
    }

    /// x · Φ(x), Φ the standard normal CDF.
    public static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }

    /// GEGLU: first half times GELU of the second. - x: [R, 2F] → [R, F]
    public static func geglu(_ x: [Float], f: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count / 2)
        for r in 0..<(x.count / (2 * f)) {
            for j in 0..<f { y[r * f + j] = Float(Double(x[r * 2 * f + j]) * gelu(Double(x[r * 2 * f + f + j]))) }
        }
        return y
    }

    /// x · sigmoid(1.702 x).
    public static func quickGELU(_ x: [Float]) -> [Float] { x.map { Float(Double($0) / (1 + Foundation.exp(-1.702 * Double($0)))) } }

    /// [N, A, B] → [N, B, A]
    public static func transpose(_ x: [Float], n: Int, a: Int, b: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for img in 0..<n { for i in 0..<a { for j in 0..<b { y[img * a * b + j * a + i] = x[img * a * b + i * b + j] } } }
        return y
    }

    /// Token-major attention: q [N, Tq, C], k, v [N, Tk, C], heads of d = C/heads columns, scores / √d → [N, Tq, C]
    /// causal: query t sees keys 0 ... t only.
    public static func tokenAttention(q: [Float], k: [Float], v: [Float], n: Int, tq: Int, tk: Int, c: Int, heads: Int,
                                      causal: Bool = false) -> [Float] {
        let d = c / heads
        var out = [Float](repeating: 0, count: n * tq * c)
        for img in 0..<n { for h in 0..<heads { for t in 0..<tq {
            var scores = (0..<(causal ? t + 1 : tk)).map { s in
                (0..<d).reduce(0.0) { $0 + Double(q[(img * tq + t) * c + h * d + $1]) * Double(k[(img * tk + s) * c + h * d + $1]) } / Double(d).squareRoot()
            }
            let m = scores.max()!
            scores = scores.map { Foundation.exp($0 - m) }
            let total = scores.reduce(0, +)
            for i in 0..<d {
                out[(img * tq + t) * c + h * d + i] = Float((0..<scores.count).reduce(0.0) { $0 + scores[$1] / total * Double(v[(img * tk + $1) * c + h * d + i]) })
            }
        } } }
        return out
    }
}
