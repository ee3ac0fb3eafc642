import LDMTensor

/// Overlapping square tiles over an h×w plane, and the weights that blend them.
///
/// Tiles have side `tile` (clamped to the plane) and start every `tile − overlap`; the last tile
/// along each axis is moved back to end exactly at the border, so every tile has full size and the
/// plan depends only on (h, w, tile, overlap) — never on threads or memory. A plane no larger than
/// `tile` is one tile: the untiled computation.
///
/// Blending follows the LDM `split_input` idea (ddpm.py `get_weighting`): each tile's output is
/// weighted by a ramp that rises from the tile's inner edges, and the weighted sum is divided by the
/// summed weights. Our ramp is smootherstep across the overlap (1 inside, never below `floor`),
/// and flat at sides on the plane's border, where there is no neighbour to blend with.
public struct TileGrid: Sendable, Equatable {
    public struct Tile: Sendable, Equatable {
        public let y: Int
        public let x: Int
        public let height: Int
        public let width: Int
    }

    public let height: Int
    public let width: Int
    public let tile: Int
    public let overlap: Int
    public let tiles: [Tile]

    /// Smallest blending weight: positive, so a pixel seen by one tile only near its edge still
    /// has a defined value, and tiny, so that tile barely counts where a neighbour covers it.
    static let floor: Float = 1e-3

    /// - tile: requested side (> 0); overlap: 0 ..< tile. `multiple`: tile sides and starts are
    ///   multiples of it (the U-Net's downsampling factor), the plane's sides must be too.
    public init(height: Int, width: Int, tile: Int, overlap: Int, multiple: Int = 1) {
        precondition(height > 0 && width > 0 && tile > 0 && overlap >= 0 && multiple > 0)
        let side = max(multiple, tile / multiple * multiple)
        let lap = min(overlap / multiple * multiple, side - multiple)
        self.height = height
        self.width = width
        self.tile = side
        self.overlap = lap
        let rows = Self.starts(extent: height, tile: side, overlap: lap, multiple: multiple)
        let cols = Self.starts(extent: width, tile: side, overlap: lap, multiple: multiple)
        var tiles: [Tile] = []
        for y in rows {
            for x in cols {
                tiles.append(Tile(y: y, x: x, height: min(side, height), width: min(side, width)))
            }
        }
        self.tiles = tiles
    }

    public var isSingleTile: Bool { tiles.count == 1 }

    /// Tile starts along one axis: 0, s, 2s, … with the last one moved back to end at the border.
    static func starts(extent: Int, tile: Int, overlap: Int, multiple: Int) -> [Int] {
        guard extent > tile else { return [0] }
        let stride = max(multiple, tile - overlap)
        var result: [Int] = []
        var position = 0
        while position + tile < extent {
            result.append(position)
            position += stride
        }
        let last = (extent - tile) / multiple * multiple
        if result.last.map({ $0 < last }) ?? true { result.append(last) }
        return result
    }

    /// The part of `tile` it owns when the tiles partition the plane (overlaps split at their middle),
    /// in tile-local coordinates, for `GroupNormStatistics`.
    public func ownedRegion(of tile: Tile) -> GroupNormStatistics.Region {
        func bounds(_ start: Int, _ length: Int, _ starts: [Int], _ extent: Int) -> (Int, Int) {
            guard let i = starts.firstIndex(of: start) else { return (0, length) }
            let lower = i == 0 ? 0 : (start + starts[i - 1] + length) / 2
            let upper = i == starts.count - 1 ? extent : (starts[i + 1] + start + length) / 2
            return (lower - start, upper - start)
        }
        let rows = Array(Set(tiles.map(\.y))).sorted(), cols = Array(Set(tiles.map(\.x))).sorted()
        let (y0, y1) = bounds(tile.y, tile.height, rows, height)
        let (x0, x1) = bounds(tile.x, tile.width, cols, width)
        return .init(y0: y0, y1: y1, x0: x0, x1: x1, referenceHeight: tile.height, referenceWidth: tile.width)
    }

    /// The blending weight of each position of `tile` (row-major, tile.height × tile.width),
    /// optionally at `scale`× resolution (a decoder tile is `f`× its latent tile).
    public func weights(for tile: Tile, scale: Int = 1) -> [Float] {
        let (h, w) = (tile.height * scale, tile.width * scale)
        let rows = Self.ramp(length: h, band: overlap * scale, rampStart: tile.y > 0, rampEnd: tile.y + tile.height < height)
        let cols = Self.ramp(length: w, band: overlap * scale, rampStart: tile.x > 0, rampEnd: tile.x + tile.width < width)
        var result = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w { result[y * w + x] = max(rows[y] * cols[x], Self.floor) }
        }
        return result
    }

    /// 1 on the part of `tile` it owns (`ownedRegion`: the tiles partition the plane, overlaps split
    /// at their middle) and 0 elsewhere, optionally at `scale`× resolution: stitching rather than
    /// feathering, for a first stage whose tiles compute their interior exactly (bounded reach).
    public func ownedWeights(for tile: Tile, scale: Int = 1) -> [Float] {
        let r = ownedRegion(of: tile)
        let (h, w) = (tile.height * scale, tile.width * scale)
        var result = [Float](repeating: 0, count: h * w)
        for y in (r.y0 * scale)..<(r.y1 * scale) {
            for x in (r.x0 * scale)..<(r.x1 * scale) { result[y * w + x] = 1 }
        }
        return result
    }

    /// 1 in the middle; at a side that borders another tile, ~0 over the outer quarter of the
    /// overlap `band`, smootherstep up to 1 across its middle half, so the values that count were
    /// computed at least band/4 away from the tile's edge, where zero padding reaches in. Two
    /// neighbours' ramps over a regular overlap sum to 1.
    static func ramp(length: Int, band: Int, rampStart: Bool, rampEnd: Bool) -> [Float] {
        var values = [Float](repeating: 1, count: length)
        guard band > 0 else { return values }
        // Symmetric placement (equal margins) keeps two neighbours' ramps complementary.
        let offset = band / 4, width = band - 2 * offset
        for i in 0..<min(band, length) {
            let u = (Float(i - offset) + 0.5) / Float(width)
            let s: Float = u <= 0 ? 0 : (u >= 1 ? 1 : u * u * u * (u * (u * 6 - 15) + 10))
            if rampStart { values[i] = min(values[i], s) }
            if rampEnd { values[length - 1 - i] = min(values[length - 1 - i], s) }
        }
        return values
    }
}

/// Accumulates weighted tiles of a [1, C, H, W] result and normalises at the end.
struct TileBlender {
    let output: Tensor
    private var weightSum: [Float]

    init(channels: Int, height: Int, width: Int) throws {
        output = try Tensor.zeros([1, channels, height, width])
        weightSum = [Float](repeating: 0, count: height * width)
    }

    /// Adds `tile` ([1, C, th, tw]) at (y, x) with per-position `weights` (th × tw).
    mutating func add(_ tile: Tensor, y: Int, x: Int, weights: [Float]) {
        let (c, th, tw) = (tile.shape[1], tile.shape[2], tile.shape[3])
        let (h, w) = (output.shape[2], output.shape[3])
        let out = output.data, src = tile.data
        weightSum.withUnsafeMutableBufferPointer { sum in
            weights.withUnsafeBufferPointer { wt in
                for ty in 0..<th {
                    let row = (y + ty) * w + x
                    for tx in 0..<tw { sum[row + tx] += wt[ty * tw + tx] }
                    for ch in 0..<c {
                        let o = out + (ch * h + y + ty) * w + x, s = src + (ch * th + ty) * tw
                        for tx in 0..<tw { o[tx] += s[tx] * wt[ty * tw + tx] }
                    }
                }
            }
        }
    }

    /// The weighted mean.
    func finish() -> Tensor {
        let (c, hw) = (output.shape[1], output.shape[2] * output.shape[3])
        let out = output.data
        weightSum.withUnsafeBufferPointer { sum in
            for ch in 0..<c {
                for i in 0..<hw { out[ch * hw + i] /= sum[i] }
            }
        }
        return output
    }
}

extension Tensor {
    /// The [1, C, th, tw] window at (y, x) of a [1, C, H, W] tensor (a copy).
    func window(y: Int, x: Int, height th: Int, width tw: Int) throws -> Tensor {
        let (c, h, w) = (shape[1], shape[2], shape[3])
        if y == 0, x == 0, th == h, tw == w { return self }
        let result = try Tensor(shape: [1, c, th, tw])
        for ch in 0..<c {
            for r in 0..<th {
                (result.data + (ch * th + r) * tw).update(from: data + (ch * h + y + r) * w + x, count: tw)
            }
        }
        return result
    }
}
