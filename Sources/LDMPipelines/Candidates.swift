import LDMImageIO

/// Several fills sampled from consecutive seeds, one kept by their consensus.
///
/// A sample of an inpainting model scores its posterior mean's error plus its own spread around that mean
/// (docs/quality.md, "Why the fills miss"); averaging samples removes the spread and the texture with it. Choosing
/// keeps a whole sample: under squared error the minimum-Bayes-risk choice among K samples (Kumar & Byrne 2004),
/// arg minᵢ Σⱼ ‖xᵢ − xⱼ‖², is the one nearest their mean (Σⱼ ‖xᵢ − xⱼ‖² = K‖xᵢ − x̄‖² + a term common to all).
/// Distances are taken on the hole low-passed (Gaussian, `sigma` pixels), so the choice is by composition, not by
/// texture, which no two samples share. No ground truth is involved.
///
/// Each candidate is first sampled with fewer steps (`previewSteps`): the deterministic samplers solve one
/// probability-flow ODE from the seed's noise (Song et al. 2021, eq. 13), so a coarse solve already shows the
/// composition the full one ends in. Only the chosen seed is then sampled at the request's steps, so the result is
/// exactly what that seed gives alone. Measured on the default inpainting model in docs/quality.md ("Choosing among
/// candidates").
///
/// With `blendsMean` the finished fill's low frequencies (the same Gaussian of `sigma` as the choice's) are replaced by
/// the previews' mean's: where the samples disagree — composition and colour, the spread that costs a sample its
/// distance to the truth — the fill takes their average, the minimum-squared-error estimate, and keeps its own texture,
/// which the average would wash out (docs/quality.md, "Blending the candidates").
public struct Candidates: Sendable, Equatable {
    /// Seeds tried: seed, seed + 1, …, seed + count − 1.
    public let count: Int
    /// Steps of each preview; nil: `previewShare` of the request's steps.
    public let previewSteps: Int?
    /// Finish with the previews' mean's low frequencies in place of the chosen fill's (`blend`).
    public let blendsMean: Bool

    public static let maximum = 16
    /// The low-pass of the consensus distance, in image pixels (σ 0 favours the smoothest sample; 4 and 8 measured alike,
    /// docs/quality.md).
    public static let sigma: Float = 4
    /// The signature keeps every `spacing`-th pixel of the low-passed hole in both directions: σ-smooth values
    /// change little between them, and the signatures of a large hole stay a sixteenth of its pixels.
    public static let spacing = 4
    /// Preview steps by default, as a share of the request's (Karras 15 → 6, measured as good as the full steps).
    public static let previewShare = 0.4

    /// - count: 2 … `maximum`; previewSteps: 1 or more. The caller validates (`InpaintingRequest`).
    public init(count: Int, previewSteps: Int? = nil, blendsMean: Bool = false) {
        precondition(count >= 2 && count <= Self.maximum && (previewSteps ?? 1) >= 1)
        self.count = count
        self.previewSteps = previewSteps
        self.blendsMean = blendsMean
    }

    /// Bytes per pixel of a model run that choosing holds beside one sampling's own: with the blend, the running sum of
    /// the previews, then the mean made from it, the blend's difference and its output (3 floats each, at most three
    /// alive with the fill, `chooseSeed` and `blend`); without, nothing (one preview at a time, then only signatures).
    public var heldBytesPerPixel: Int { blendsMean ? 3 * 3 * MemoryLayout<Float>.size : 0 }

    /// The preview steps for a request of `steps` steps.
    public func previewSteps(for steps: Int) -> Int {
        previewSteps ?? max(1, Int((Double(steps) * Self.previewShare).rounded()))
    }

    /// The fill's low-passed colour at every `spacing`-th pixel of the hole (mask > 0), in raster order:
    /// image [3, H, W] planes, mask H·W → 3·(sampled hole pixels) values. Only the hole's bounding box, grown by the
    /// blur's radius, is blurred (edges clamped there): the same window for every candidate of one mask.
    static func signature(_ image: PlanarImage, mask: [Float]) -> [Float] {
        precondition(mask.count == image.width * image.height)
        guard let (hole, box, window) = lowPassed(image.rgb, width: image.width, height: image.height, mask: mask) else { return [] }
        var values: [Float] = []
        for y in stride(from: hole.y0, to: hole.y1, by: spacing) {
            for x in stride(from: hole.x0, to: hole.x1, by: spacing) where mask[y * image.width + x] > 0 {
                for c in 0..<3 { values.append(window[(c * box.height + y - box.y0) * box.width + x - box.x0]) }
            }
        }
        return values
    }

    /// `fill` with its low frequencies in the hole replaced by `mean`'s: fill + mask·(blur(mean) − blur(fill)), the blur
    /// taken as `signature`'s (of the difference: the blur is linear). Pixels outside the hole are fill's.
    /// fill [3, H, W] planes, mean 3·H·W values, mask H·W in [0, 1] → [3, H, W].
    static func blend(_ fill: PlanarImage, mean: [Float], mask: [Float]) -> PlanarImage {
        let (w, h) = (fill.width, fill.height)
        precondition(mean.count == fill.rgb.count && mask.count == w * h)
        let difference = zip(mean, fill.rgb).map { $0 - $1 }
        guard let (hole, box, window) = lowPassed(difference, width: w, height: h, mask: mask) else { return fill }
        var out = fill
        for c in 0..<3 {
            for y in hole.y0..<hole.y1 {
                for x in hole.x0..<hole.x1 where mask[y * w + x] > 0 {
                    out.rgb[(c * h + y) * w + x] += mask[y * w + x] * window[(c * box.height + y - box.y0) * box.width + x - box.x0]
                }
            }
        }
        return out
    }

    /// The hole's bounding box (mask > 0), that box grown by the blur's radius (clipped to the image), and the planes
    /// inside the grown box low-passed (Gaussian of `sigma`, edges clamped there): the same window for every candidate
    /// of one mask. nil for an empty hole. planes: 3·height·width values.
    private static func lowPassed(_ planes: [Float], width w: Int, height h: Int, mask: [Float])
        -> (hole: PixelRect, box: PixelRect, window: [Float])? {
        var (x0, y0, x1, y1) = (w, h, 0, 0)
        for y in 0..<h {
            for x in 0..<w where mask[y * w + x] > 0 {
                (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x + 1), max(y1, y + 1))
            }
        }
        guard x0 < x1 else { return nil }
        let kernel = LowPass.gaussian(sigma: sigma)
        let r = kernel.count / 2
        let box = PixelRect(x0: max(x0 - r, 0), y0: max(y0 - r, 0), x1: min(x1 + r, w), y1: min(y1 + r, h))
        var window = [Float](repeating: 0, count: 3 * box.width * box.height)
        for c in 0..<3 {
            for y in 0..<box.height {
                for x in 0..<box.width { window[(c * box.height + y) * box.width + x] = planes[(c * h + box.y0 + y) * w + box.x0 + x] }
            }
        }
        window.withUnsafeMutableBufferPointer {
            LowPass.blur($0.baseAddress!, channels: 3, height: box.height, width: box.width, kernel: kernel)
        }
        return (PixelRect(x0: x0, y0: y0, x1: x1, y1: y1), box, window)
    }

    /// The index of the signature nearest the signatures' mean (the first on a tie; 0 when they are empty):
    /// signatures K × M values, all of one length.
    static func choose(_ signatures: [[Float]]) -> Int {
        guard let m = signatures.first?.count, m > 0 else { return 0 }
        var mean = [Double](repeating: 0, count: m)
        for s in signatures { for j in 0..<m { mean[j] += Double(s[j]) } }
        for j in 0..<m { mean[j] /= Double(signatures.count) }
        var best = (index: 0, distance: Double.infinity)
        for (i, s) in signatures.enumerated() {
            var d = 0.0
            for j in 0..<m { d += (Double(s[j]) - mean[j]) * (Double(s[j]) - mean[j]) }
            if d < best.distance { best = (i, d) }
        }
        return best.index
    }
}

extension InpaintingPipeline {
    /// The seed of `settings` the fill of `image` keeps: each of `candidates.count` consecutive seeds previewed
    /// (`unit` runs one model run at the given settings and callbacks), the consensus one returned, with the previews'
    /// mean when `candidates.blendsMean`. Progress counts the previews' steps and then `finalSteps`, so the final run
    /// reports through `finalProgress`.
    func chooseSeed(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, candidates: Candidates,
                    callbacks: PipelineCallbacks,
                    unit: (PlanarImage, [Float], SamplingSettings, PipelineCallbacks) throws -> PlanarImage) throws
        -> (seed: UInt64, finalProgress: PipelineCallbacks, mean: [Float]?) {
        let preview = candidates.previewSteps(for: settings.steps)
        let total = candidates.count * preview + settings.steps
        var signatures: [[Float]] = []
        var sum: [Float]? = candidates.blendsMean ? [Float](repeating: 0, count: image.rgb.count) : nil
        for i in 0..<candidates.count {
            var trial = settings
            trial.steps = preview
            trial.seed = settings.seed &+ UInt64(i)
            let offset = i * preview
            let progress = PipelineCallbacks(progress: { done, steps in callbacks.progress(offset + done * preview / max(steps, 1), total) },
                                             isCancelled: callbacks.isCancelled)
            let fill = try unit(image, mask, trial, progress)
            signatures.append(Candidates.signature(fill, mask: mask))
            if sum != nil { for j in fill.rgb.indices { sum![j] += fill.rgb[j] } }
        }
        let offset = candidates.count * preview, finalSteps = settings.steps
        let final = PipelineCallbacks(progress: { done, steps in callbacks.progress(offset + done * finalSteps / max(steps, 1), total) },
                                      isCancelled: callbacks.isCancelled)
        let scale = 1 / Float(candidates.count)
        return (settings.seed &+ UInt64(Candidates.choose(signatures)), final, sum.map { $0.map { $0 * scale } })
    }
}
