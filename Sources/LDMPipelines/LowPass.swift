import Foundation

/// A separable Gaussian blur of planar float images, edges clamped: the low-pass of `DiffusionLoop.guided`.
enum LowPass {
    /// Normalised taps of a Gaussian of standard deviation `sigma`, radius ⌈3σ⌉ (one tap of 1 for σ ≤ 0).
    static func gaussian(sigma: Float) -> [Float] {
        guard sigma > 0 else { return [1] }
        let radius = Int((3 * sigma).rounded(.up))
        let taps = (-radius...radius).map { d in exp(-Float(d * d) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }

    /// In place, each of `channels` planes of height × width.
    /// - data: channels·height·width values; kernel: an odd number of taps
    static func blur(_ data: UnsafeMutablePointer<Float>, channels: Int, height h: Int, width w: Int, kernel: [Float]) {
        let r = kernel.count / 2
        var line = [Float](repeating: 0, count: max(h, w))
        for c in 0..<channels {
            let plane = data + c * h * w
            for y in 0..<h {
                for x in 0..<w { line[x] = plane[y * w + x] }
                for x in 0..<w {
                    var sum: Float = 0
                    for k in -r...r { sum += kernel[k + r] * line[min(max(x + k, 0), w - 1)] }
                    plane[y * w + x] = sum
                }
            }
            for x in 0..<w {
                for y in 0..<h { line[y] = plane[y * w + x] }
                for y in 0..<h {
                    var sum: Float = 0
                    for k in -r...r { sum += kernel[k + r] * line[min(max(y + k, 0), h - 1)] }
                    plane[y * w + x] = sum
                }
            }
        }
    }
}
