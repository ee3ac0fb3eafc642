@testable import LDMImageIO

/// The obviously-correct twin of `Resampler`: every output pixel computed directly as a normalised
/// 2-D weighted sum in Double, with the same geometry (pixel centres, kernel stretched when
/// shrinking, edge replication). No precomputed taps, no passes, no threads.
enum NaiveResampler {
    static func resize(_ plane: [Float], width: Int, height: Int, to outW: Int, _ outH: Int,
                       filter: ResamplingFilter) -> [Float] {
        func axis(_ i: Int, input: Int, output: Int) -> [(Int, Double)] {
            let scale = Double(input) / Double(output)
            let stretch = max(scale, 1)
            let centre = (Double(i) + 0.5) * scale - 0.5
            let reach = Int((filter.support * stretch).rounded(.up)) + 1
            var taps: [(Int, Double)] = []
            for j in (Int(centre) - reach)...(Int(centre) + reach) {
                let w = filter.weight((Double(j) - centre) / stretch)
                if w != 0 { taps.append((min(max(j, 0), input - 1), w)) }
            }
            let total = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / total) }
        }
        var out = [Float](repeating: 0, count: outW * outH)
        for y in 0..<outH {
            let ty = axis(y, input: height, output: outH)
            for x in 0..<outW {
                let tx = axis(x, input: width, output: outW)
                var sum = 0.0
                for (sy, wy) in ty { for (sx, wx) in tx { sum += wy * wx * Double(plane[sy * width + sx]) } }
                out[y * outW + x] = Float(sum)
            }
        }
        return out
    }
}
