import LDMTensor

/// How a first stage's GroupNorm layers normalise when it decodes (or encodes) tile by tile. The
/// layers normalise over the whole feature map, so a tile's own statistics differ from the image's
/// and tone can drift from tile to tile (diffusers PR #1441); docs/performance.md ("Tiling") has the
/// measurements that chose the default. First stages without GroupNorm (the conv autoencoder) tile
/// exactly and ignore this.
public enum TileNormalisation: String, Sendable, Codable, CaseIterable {
    /// Each tile with its own statistics: no extra work.
    case perTile = "per-tile"
    /// Statistics estimated once from a copy of the input shrunk to about one tile (area average,
    /// each channel re-standardised to the full input's mean and standard deviation), then frozen
    /// for every tile: one extra tile's work.
    case estimated
    /// Statistics recorded from one untiled run over the whole input, then frozen for every tile:
    /// the reference the others are measured against (memory as untiled, so not for big images).
    case exact

    /// The input the statistics are recorded from: nil for per-tile statistics, the input itself
    /// for `exact`, the shrunk and re-standardised copy for `estimated` (sides at most `side`, in
    /// units of `multiple` pixels: an encoder's input stays a multiple of its factor).
    /// - input: [1, C, H, W] → [1, C, h, w]
    func statisticsInput(_ input: Tensor, side: Int, multiple: Int) throws -> Tensor? {
        switch self {
        case .perTile: return nil
        case .exact: return input
        case .estimated:
            let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
            let (gh, gw) = (h / multiple, w / multiple)
            let scale = min(1, Double(side) / Double(max(gh, gw)))
            let (sh, sw) = (max(1, Int((Double(gh) * scale).rounded())) * multiple, max(1, Int((Double(gw) * scale).rounded())) * multiple)
            let shrunk = try Tensor(shape: [1, c, sh, sw])
            try AreaResize.forward(input, into: shrunk)
            for channel in 0..<c {
                let (mean, deviation) = Self.moments(input.data + channel * h * w, count: h * w)
                let plane = shrunk.data + channel * sh * sw
                let (shrunkMean, shrunkDeviation) = Self.moments(plane, count: sh * sw)
                for i in 0..<(sh * sw) {
                    let standardised = shrunkDeviation > 0 ? (Double(plane[i]) - shrunkMean) / shrunkDeviation : 0
                    plane[i] = Float(standardised * deviation + mean)
                }
            }
            return shrunk
        }
    }

    /// Mean and (population) standard deviation, in Double.
    static func moments(_ x: UnsafeMutablePointer<Float>, count: Int) -> (mean: Double, deviation: Double) {
        var sum = 0.0, squares = 0.0
        for i in 0..<count {
            sum += Double(x[i])
            squares += Double(x[i]) * Double(x[i])
        }
        let mean = sum / Double(max(count, 1))
        return (mean, max(0, squares / Double(max(count, 1)) - mean * mean).squareRoot())
    }
}
