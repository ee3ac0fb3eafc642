import LDMImageIO

/// Holes larger than a model learned to fill, filled in two passes: the whole image scaled down until the hole's
/// largest square is `holeLimit` pixels on a side and inpainted there (the composition, at a scale the model knows),
/// then that fill scaled back up (Lanczos-3) guides a full-resolution run: over the first `share` of its steps the
/// hole's latents take the low frequencies of the guide's (`DiffusionLoop.guided`, ILVR), and make their own detail.
/// Holes no larger than the limit run in one pass, as without it.
///
/// Why: a U-Net trained on crops of side c with holes up to ¾c fills larger holes poorly at full scale (the
/// bundled model, trained on 128-pixel crops, at a 128-pixel square hole in a 256-pixel crop: 1.9 dB under the
/// Telea baseline; at 128-pixel crops, its training scale, 0.7 dB under: docs/quality.md, where the trade it makes,
/// hole PSNR up and fine detail down, is measured). Off unless asked for.
public struct CoarseToFine: Sendable, Equatable {
    /// The largest square hole filled at full resolution, in pixels; larger ones are filled at the scale that
    /// makes them this size first.
    public var holeLimit: Int
    /// The share of the full-resolution run's steps that follow the coarse fill's low frequencies, in (0, 1].
    public var share: Double

    public static let minimumHoleLimit = 16
    /// The share when the request gives none: every step.
    public static let defaultShare = 1.0
    /// σ of the guidance's low-pass in latent pixels (8 image pixels for f = 4): measured against 1 and 4 on 8
    /// training-split crops of the bundled model (docs/quality.md, "Large holes").
    public static let guidanceBlur: Float = 2

    public init(holeLimit: Int, share: Double = defaultShare) {
        self.holeLimit = holeLimit
        self.share = share
    }

    /// The side of the largest axis-aligned square of masked pixels (≥ 0.5), in pixels: the classic dynamic
    /// programme, side(x, y) = 1 + min(left, up, up-left) over masked pixels.
    /// - mask: width·height values
    static func largestSquare(_ mask: [Float], width w: Int, height h: Int) -> Int {
        var previous = [Int](repeating: 0, count: w), current = [Int](repeating: 0, count: w)
        var best = 0
        for y in 0..<h {
            for x in 0..<w {
                guard mask[y * w + x] >= 0.5 else { current[x] = 0; continue }
                let side = x == 0 || y == 0 ? 1 : 1 + min(current[x - 1], previous[x], previous[x - 1])
                current[x] = side
                best = max(best, side)
            }
            swap(&previous, &current)
        }
        return best
    }

    /// The coarse pass's size for a width × height image with this mask, or nil when its hole needs none: the
    /// largest square scaled to `holeLimit`, both sides at least `minimumSide` (the model's padding multiple
    /// twice, so the scaled image keeps context around the hole).
    func coarseSize(mask: [Float], width w: Int, height h: Int, minimumSide: Int) -> (width: Int, height: Int, hole: Int)? {
        let hole = Self.largestSquare(mask, width: w, height: h)
        guard hole > holeLimit else { return nil }
        let scale = max(Double(holeLimit) / Double(hole), Double(minimumSide) / Double(min(w, h)))
        guard scale < 1 else { return nil }
        return (max(minimumSide, Int((Double(w) * scale).rounded())), max(minimumSide, Int((Double(h) * scale).rounded())), hole)
    }
}

extension InpaintingPipeline {
    /// One run of the model on `image` (any strategy's unit of work), in two passes when `coarseToFine` finds a
    /// hole above its limit (the type's comment). Returns the blended image and, for two passes, what ran
    /// ("coarse 192x192 for a 128 px hole, guided 1.0").
    /// `tiling(width, height)` gives each pass's tile plan.
    func run(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, coarseToFine: CoarseToFine?,
             callbacks: PipelineCallbacks, tiling: ((Int, Int) throws -> TilingSettings)?) throws -> (image: PlanarImage, note: String?) {
        let (w, h) = (image.width, image.height)
        var full = settings
        if let tiling { full.tiling = try tiling(w, h) }
        guard let coarse = coarseToFine,
              let size = coarse.coarseSize(mask: mask, width: w, height: h, minimumSide: 2 * sizeMultiple) else {
            return (try run(image, mask: mask, settings: full, callbacks: callbacks), nil)
        }
        if model.text != nil { throw PipelineError.coarseToFineUnsupported }
        // Progress over both passes, as many evaluations each.
        let first = PipelineCallbacks(progress: { done, total in callbacks.progress(done, 2 * total) }, isCancelled: callbacks.isCancelled)
        var small = settings
        if let tiling { small.tiling = try tiling(size.width, size.height) }
        let fill = try Self.fillAtScale(image, mask: mask, width: size.width, height: size.height) {
            try run($0, mask: $1, settings: small, callbacks: first)
        }
        var guide = PlanarImage(width: w, height: h, rgb: image.rgb)
        Self.paste(fill, into: &guide, at: PixelRect(x0: 0, y0: 0, x1: w, y1: h), mask: mask)
        let second = PipelineCallbacks(progress: { done, total in callbacks.progress(total + done, 2 * total) }, isCancelled: callbacks.isCancelled)
        let result = try run(image, mask: mask, settings: full, callbacks: second, guide: (guide, coarse.share))
        return (result, "coarse \(size.width)x\(size.height) for a \(size.hole) px hole, guided \(coarse.share)")
    }
}
