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

    /// In place, each of `channels` planes of height × width: rows, then columns.
    /// - data: channels·height·width values; kernel: an odd number of taps
    static func blur(_ data: UnsafeMutablePointer<Float>, channels: Int, height h: Int, width w: Int, kernel: [Float]) {
        var line = [Float](repeating: 0, count: max(h, w))
        for c in 0..<channels {
            let plane = data + c * h * w
            convolve(plane, lines: h, length: w, across: w, along: 1, kernel: kernel, line: &line)
            convolve(plane, lines: w, length: h, across: 1, along: w, kernel: kernel, line: &line)
        }
    }

    /// Each of `lines` lines of `length` values (line i starts at i·across, its values `along` apart) convolved with
    /// `kernel`, edges clamped; `line` is scratch of at least `length`.
    private static func convolve(_ plane: UnsafeMutablePointer<Float>, lines: Int, length: Int, across: Int, along: Int,
                                 kernel: [Float], line: inout [Float]) {
        let r = kernel.count / 2
        for i in 0..<lines {
            let start = plane + i * across
            for j in 0..<length { line[j] = start[j * along] }
            for j in 0..<length {
                var sum: Float = 0
                for k in -r...r { sum += kernel[k + r] * line[min(max(j + k, 0), length - 1)] }
                start[j * along] = sum
            }
        }
    }
}
