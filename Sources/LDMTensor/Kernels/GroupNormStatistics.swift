import LDMParallel

/// GroupNorm statistics shared across the tiles of one image, so a network run tile by tile
/// normalises every tile with the whole image's mean and variance instead of its own — the cause
/// of tile-to-tile tone drift in tiled decoders (diffusers PR #1441).
///
/// Used in two passes over the same tiles, in the same layer order:
/// 1. `record`: each GroupNorm call adds Σx, Σx² and the count of the positions of the tile's
///    owned region (the tiles' owned regions partition the image, so every position counts once);
///    the layer still normalises with the tile's own statistics.
/// 2. `replay`: each GroupNorm call normalises with the aggregated statistics of its call index.
/// The recorded statistics are exact for the first GroupNorm; later ones mix tiles whose earlier
/// layers were normalised with their own statistics. Replaying statistics recorded from the whole
/// image makes a tiled run match the untiled one up to attention and zero padding (tested); the
/// two-pass estimate is measured in docs/performance.md and is not the pipelines' default.
public final class GroupNormStatistics {
    public enum Mode: Sendable { case record, replay }

    /// Owned region of the current tile in reference units (the tile's own extent is
    /// referenceHeight × referenceWidth); a layer of height H uses rows y0·H/refH ..< y1·H/refH.
    public struct Region: Sendable, Equatable {
        public var y0, y1, x0, x1: Int
        public var referenceHeight, referenceWidth: Int

        public init(y0: Int, y1: Int, x0: Int, x1: Int, referenceHeight: Int, referenceWidth: Int) {
            (self.y0, self.y1, self.x0, self.x1) = (y0, y1, x0, x1)
            (self.referenceHeight, self.referenceWidth) = (referenceHeight, referenceWidth)
        }
    }

    public private(set) var mode: Mode = .record

    /// Moves to the next GroupNorm call (each call records and/or replays once, then advances).
    public func advance() { call += 1 }
    public var region: Region?
    private var call = 0
    private var sums: [[Double]] = []
    private var squares: [[Double]] = []
    private var counts: [Double] = []

    public init() {}

    /// Starts one tile's forward pass (call indices restart at 0).
    public func beginTile(_ region: Region?) {
        self.region = region
        call = 0
    }

    /// The aggregated statistics per call, once recording is over.
    private var previous: [[(mean: Double, variance: Double)]] = []

    /// Switches from recording to replaying the aggregated statistics.
    public func startReplay() {
        previous = finished()
        mode = .replay
    }

    private func finished() -> [[(mean: Double, variance: Double)]] {
        sums.indices.map { call in
            (0..<sums[call].count).map { g in
                let mean = sums[call][g] / max(counts[call], 1)
                return (mean, max(0, squares[call][g] / max(counts[call], 1) - mean * mean))
            }
        }
    }

    /// The statistics to normalise the current call with: the aggregated ones after recording; nil
    /// while recording (the tile's own statistics are used).
    public func replayed(groups: Int) -> [(mean: Double, variance: Double)]? {
        guard call < previous.count, previous[call].count == groups else { return nil }
        return previous[call]
    }

    /// Adds the current call's sums over the owned region of x ([1, C, H, W]).
    public func record(_ x: Tensor, groups: Int) {
        guard x.rank == 4, x.shape[0] == 1 else { return }
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let r = region ?? Region(y0: 0, y1: h, x0: 0, x1: w, referenceHeight: h, referenceWidth: w)
        let (y0, y1) = (r.y0 * h / r.referenceHeight, r.y1 * h / r.referenceHeight)
        let (x0, x1) = (r.x0 * w / r.referenceWidth, r.x1 * w / r.referenceWidth)
        while sums.count <= call {
            sums.append([Double](repeating: 0, count: groups))
            squares.append([Double](repeating: 0, count: groups))
            counts.append(0)
        }
        let perGroup = c / groups
        var s = [Double](repeating: 0, count: groups), q = s
        s.withUnsafeMutableBufferPointer { sp in
            q.withUnsafeMutableBufferPointer { qp in
                Parallel.forEach(groups) { range in
                    for g in range {
                        var sum = 0.0, square = 0.0
                        for k in 0..<perGroup {
                            let plane = x.data + (g * perGroup + k) * h * w
                            for y in y0..<y1 {
                                let row = plane + y * w
                                sum += FastMath.sum(row + x0, count: x1 - x0)
                                square += FastMath.sum(row + x0, count: x1 - x0, squared: true)
                            }
                        }
                        sp[g] = sum
                        qp[g] = square
                    }
                }
            }
        }
        for g in 0..<groups {
            sums[call][g] += s[g]
            squares[call][g] += q[g]
        }
        counts[call] += Double(perGroup * (y1 - y0) * (x1 - x0))
    }
}
