import LDMImageIO

/// How `inpaint` handles an image larger than the model comfortably runs on (IOPaint's "HD strategy",
/// `iopaint/model/base.py`): only the masked parts need the model, so the default crops around them.
public enum InpaintingStrategy: String, Sendable, CaseIterable {
    /// `full` up to `autoLimit` pixels on the long side, `crop` above.
    case auto
    /// One window per connected mask region (plus `cropMargin` of context), merged where windows
    /// overlap, each inpainted at native resolution (tiled if still large) and pasted back.
    case crop
    /// The whole image scaled down to `resizeLimit` on the long side, inpainted, and the fill scaled
    /// back up (Lanczos-3) into the masked pixels: fast, softer.
    case resize
    /// The whole image at native resolution (tiled U-Net and VQ), as the reference does.
    case full
}

/// Numbers for the strategies (defaults after IOPaint's HD strategy: margin 128, resize 1280 —
/// ours is 1024 so the resized image is one U-Net tile of the standard plan).
public struct LargeImageOptions: Sendable, Equatable {
    public var strategy: InpaintingStrategy
    public var cropMargin: Int
    public var resizeLimit: Int
    public var autoLimit: Int

    public init(strategy: InpaintingStrategy = .auto, cropMargin: Int = 128, resizeLimit: Int = 1024, autoLimit: Int = 1024) {
        self.strategy = strategy
        self.cropMargin = cropMargin
        self.resizeLimit = resizeLimit
        self.autoLimit = autoLimit
    }

    /// The strategy `auto` resolves to for a width × height image.
    public func resolved(width: Int, height: Int) -> InpaintingStrategy {
        guard strategy == .auto else { return strategy }
        return max(width, height) <= autoLimit ? .full : .crop
    }
}

/// A rectangle of an image (pixels).
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x0, y0, x1, y1: Int
    public var width: Int { x1 - x0 }
    public var height: Int { y1 - y0 }
    public var description: String { "\(width)x\(height)+\(x0)+\(y0)" }

    func intersects(_ o: PixelRect) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
    func union(_ o: PixelRect) -> PixelRect { PixelRect(x0: min(x0, o.x0), y0: min(y0, o.y0), x1: max(x1, o.x1), y1: max(y1, o.y1)) }
}

extension InpaintingPipeline {
    /// Inpaints `image` with `options.strategy`. Returns the full-size image whose masked pixels hold
    /// the fill (others are the source) and a description of what ran ("full", "crop 2: …").
    /// `tiling(width, height)` gives the tile plan for each run of the model (the whole image, a
    /// crop window or the resized image); by default `settings.tiling`.
    /// `coarseToFine`: large holes in two passes, in each run of the model (`CoarseToFine`).
    /// `candidates`: each run of the model (each crop window on its own) previews several seeds and samples the
    /// consensus one (`Candidates`).
    public func run(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, options: LargeImageOptions,
                    coarseToFine: CoarseToFine? = nil, candidates: Candidates? = nil, callbacks: PipelineCallbacks = .init(),
                    tiling: ((Int, Int) throws -> TilingSettings)? = nil) throws -> (image: PlanarImage, plan: String) {
        var notes: [String] = []
        func unit(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, callbacks: PipelineCallbacks) throws -> PlanarImage {
            let result = try self.run(image, mask: mask, settings: settings, coarseToFine: coarseToFine, callbacks: callbacks, tiling: tiling)
            if let note = result.note { notes.append(note) }
            return result.image
        }
        func run(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, callbacks: PipelineCallbacks) throws -> PlanarImage {
            guard let candidates else { return try unit(image, mask: mask, settings: settings, callbacks: callbacks) }
            let kept = notes.count
            let (seed, final, mean) = try chooseSeed(image, mask: mask, settings: settings, candidates: candidates, callbacks: callbacks) {
                try unit($0, mask: $1, settings: $2, callbacks: $3)
            }
            notes.removeSubrange(kept...)   // the previews' coarse-to-fine notes: the final run repeats its own
            var chosen = settings
            chosen.seed = seed
            let result = try unit(image, mask: mask, settings: chosen, callbacks: final)
            notes.append("seed \(seed) of \(candidates.count) candidates (\(candidates.previewSteps(for: settings.steps))-step previews"
                         + (mean == nil ? ")" : ", blended with their mean)"))
            return mean.map { Candidates.blend(result, mean: $0, mask: mask) } ?? result
        }
        let result = try runStrategy(image, mask: mask, settings: settings, options: options, callbacks: callbacks, unit: run)
        return (result.image, result.plan + (notes.isEmpty ? "" : "; " + notes.joined(separator: ", ")))
    }

    private func runStrategy(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, options: LargeImageOptions,
                             callbacks: PipelineCallbacks,
                             unit run: (PlanarImage, [Float], SamplingSettings, PipelineCallbacks) throws -> PlanarImage) throws -> (image: PlanarImage, plan: String) {
        let (w, h) = (image.width, image.height)
        guard mask.count == w * h else { throw PipelineError.maskSize(count: mask.count, width: w, height: h) }
        var strategy = options.resolved(width: w, height: h)
        let scale = min(1, Double(options.resizeLimit) / Double(max(w, h)))
        if strategy == .resize, scale >= 1 { strategy = .full }
        switch strategy {
        case .auto, .full:
            // Every strategy returns the source itself outside the mask (not its float round trip).
            var result = image
            Self.paste(try run(image, mask, settings, callbacks), into: &result,
                       at: PixelRect(x0: 0, y0: 0, x1: w, y1: h), mask: mask)
            return (result, "full")
        case .crop:
            let rects = Self.cropWindows(mask: mask, width: w, height: h, margin: options.cropMargin, minimumSide: 2 * sizeMultiple)
            var result = image
            for (index, rect) in rects.enumerated() {
                let crop = Self.crop(image, rect)
                let cropMask = Self.crop(mask, width: w, rect)
                let steps = callbacks
                let offset = index, count = rects.count
                let regionCallbacks = PipelineCallbacks(progress: { s, total in steps.progress(offset * total + s, count * total) },
                                                        isCancelled: callbacks.isCancelled)
                let filled = try run(crop, cropMask, settings, regionCallbacks)
                Self.paste(filled, into: &result, at: rect, mask: mask)
            }
            return (result, "crop \(rects.count): " + rects.map(\.description).joined(separator: ", "))
        case .resize:
            let (sw, sh) = (max(1, Int((Double(w) * scale).rounded())), max(1, Int((Double(h) * scale).rounded())))
            let fill = try Self.fillAtScale(image, mask: mask, width: sw, height: sh) { try run($0, $1, settings, callbacks) }
            var result = image
            Self.paste(fill, into: &result, at: PixelRect(x0: 0, y0: 0, x1: w, y1: h), mask: mask)
            return (result, "resize \(sw)x\(sh)")
        }
    }

    /// Bounding boxes of the mask's 8-connected regions, grown by `margin` (and to at least
    /// `minimumSide` where the image allows), clamped, and merged until no two overlap; sorted top
    /// to bottom, left to right.
    static func cropWindows(mask: [Float], width w: Int, height h: Int, margin: Int, minimumSide: Int = 1) -> [PixelRect] {
        var label = [Int32](repeating: -1, count: w * h)
        var rects: [PixelRect] = []
        var stack: [Int] = []
        for start in 0..<(w * h) where mask[start] >= 0.5 && label[start] < 0 {
            var r = PixelRect(x0: start % w, y0: start / w, x1: start % w + 1, y1: start / w + 1)
            label[start] = Int32(rects.count)
            stack.append(start)
            while let p = stack.popLast() {
                let (px, py) = (p % w, p / w)
                r = r.union(PixelRect(x0: px, y0: py, x1: px + 1, y1: py + 1))
                for dy in -1...1 {
                    for dx in -1...1 {
                        let (nx, ny) = (px + dx, py + dy)
                        guard nx >= 0, ny >= 0, nx < w, ny < h else { continue }
                        let q = ny * w + nx
                        if mask[q] >= 0.5, label[q] < 0 {
                            label[q] = Int32(rects.count)
                            stack.append(q)
                        }
                    }
                }
            }
            rects.append(r)
        }
        func widen(_ lo: Int, _ hi: Int, _ extent: Int) -> (Int, Int) {
            var (a, b) = (max(0, lo - margin), min(extent, hi + margin))
            let missing = min(extent, minimumSide) - (b - a)
            if missing > 0 {
                a = max(0, a - (missing + 1) / 2)
                b = min(extent, a + min(extent, minimumSide))
                a = max(0, b - min(extent, minimumSide))
            }
            return (a, b)
        }
        var grown = rects.map { r -> PixelRect in
            let (x0, x1) = widen(r.x0, r.x1, w), (y0, y1) = widen(r.y0, r.y1, h)
            return PixelRect(x0: x0, y0: y0, x1: x1, y1: y1)
        }
        var merged = true
        while merged {
            merged = false
            outer: for i in grown.indices {
                for j in grown.indices where j > i && grown[i].intersects(grown[j]) {
                    grown[i] = grown[i].union(grown[j])
                    grown.remove(at: j)
                    merged = true
                    break outer
                }
            }
        }
        return grown.sorted { ($0.y0, $0.x0) < ($1.y0, $1.x0) }
    }

    static func crop(_ image: PlanarImage, _ r: PixelRect) -> PlanarImage {
        let (w, h) = (image.width, image.height)
        var rgb = [Float](repeating: 0, count: 3 * r.width * r.height)
        for c in 0..<3 {
            for y in 0..<r.height {
                for x in 0..<r.width { rgb[(c * r.height + y) * r.width + x] = image.rgb[(c * h + r.y0 + y) * w + r.x0 + x] }
            }
        }
        return PlanarImage(width: r.width, height: r.height, rgb: rgb)
    }

    static func crop(_ mask: [Float], width w: Int, _ r: PixelRect) -> [Float] {
        var out = [Float](repeating: 0, count: r.width * r.height)
        for y in 0..<r.height {
            for x in 0..<r.width { out[y * r.width + x] = mask[(r.y0 + y) * w + r.x0 + x] }
        }
        return out
    }

    /// Copies the masked pixels of `fill` (covering `r`) into `image`.
    static func paste(_ fill: PlanarImage, into image: inout PlanarImage, at r: PixelRect, mask: [Float]) {
        let (w, h) = (image.width, image.height)
        for y in 0..<r.height {
            for x in 0..<r.width where mask[(r.y0 + y) * w + r.x0 + x] >= 0.5 {
                for c in 0..<3 {
                    image.rgb[(c * h + r.y0 + y) * w + r.x0 + x] = fill.rgb[(c * r.height + y) * r.width + x]
                }
            }
        }
    }

    /// The fill of `mask` made by `run` on the image and mask scaled to sw × sh (Lanczos-3; `shrinkMask`), scaled back to
    /// the image's size and clamped to [0, 1] (the `resize` strategy, and the first pass of `CoarseToFine`).
    static func fillAtScale(_ image: PlanarImage, mask: [Float], width sw: Int, height sh: Int,
                            run: (PlanarImage, [Float]) throws -> PlanarImage) throws -> PlanarImage {
        let (w, h) = (image.width, image.height)
        let small = Resampler.resize(PlanarImage(width: w, height: h, rgb: image.rgb), width: sw, height: sh, filter: .lanczos)
        let filled = try run(small, shrinkMask(mask, width: w, height: h, to: sw, sh))
        var fill = Resampler.resize(PlanarImage(width: sw, height: sh, rgb: filled.rgb), width: w, height: h, filter: .lanczos)
        fill.rgb = fill.rgb.map { min(max($0, 0), 1) }
        return fill
    }

    /// A w×h mask at sw×sh: a small pixel is masked when any full-size pixel it covers is, so thin
    /// strokes survive the reduction.
    static func shrinkMask(_ mask: [Float], width w: Int, height h: Int, to sw: Int, _ sh: Int) -> [Float] {
        var out = [Float](repeating: 0, count: sw * sh)
        for y in 0..<h {
            let sy = min(sh - 1, y * sh / h)
            for x in 0..<w where mask[y * w + x] >= 0.5 { out[sy * sw + min(sw - 1, x * sw / w)] = 1 }
        }
        return out
    }
}
