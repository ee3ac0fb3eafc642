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
public struct Candidates: Sendable, Equatable {
    /// Seeds tried: seed, seed + 1, …, seed + count − 1.
    public let count: Int
    /// Steps of each preview; nil: `previewShare` of the request's steps.
    public let previewSteps: Int?

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
    public init(count: Int, previewSteps: Int? = nil) {
        precondition(count >= 2 && count <= Self.maximum && (previewSteps ?? 1) >= 1)
        self.count = count
        self.previewSteps = previewSteps
    }

    /// The preview steps for a request of `steps` steps.
    public func previewSteps(for steps: Int) -> Int {
        previewSteps ?? max(1, Int((Double(steps) * Self.previewShare).rounded()))
    }

    /// The fill's low-passed colour at every `spacing`-th pixel of the hole (mask > 0), in raster order:
    /// image [3, H, W] planes, mask H·W → 3·(sampled hole pixels) values. Only the hole's bounding box, grown by the
    /// blur's radius, is blurred (edges clamped there): the same window for every candidate of one mask.
    static func signature(_ image: PlanarImage, mask: [Float]) -> [Float] {
        let (w, h) = (image.width, image.height)
        precondition(mask.count == w * h)
        var (x0, y0, x1, y1) = (w, h, 0, 0)
        for y in 0..<h {
            for x in 0..<w where mask[y * w + x] > 0 {
                (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x + 1), max(y1, y + 1))
            }
        }
        guard x0 < x1 else { return [] }
        let kernel = LowPass.gaussian(sigma: sigma)
        let r = kernel.count / 2
        let (bx0, by0, bx1, by1) = (max(x0 - r, 0), max(y0 - r, 0), min(x1 + r, w), min(y1 + r, h))
        let (bw, bh) = (bx1 - bx0, by1 - by0)
        var window = [Float](repeating: 0, count: 3 * bw * bh)
        for c in 0..<3 {
            for y in 0..<bh {
                for x in 0..<bw { window[(c * bh + y) * bw + x] = image.rgb[(c * h + by0 + y) * w + bx0 + x] }
            }
        }
        window.withUnsafeMutableBufferPointer { LowPass.blur($0.baseAddress!, channels: 3, height: bh, width: bw, kernel: kernel) }
        var values: [Float] = []
        for y in stride(from: y0, to: y1, by: spacing) {
            for x in stride(from: x0, to: x1, by: spacing) where mask[y * w + x] > 0 {
                for c in 0..<3 { values.append(window[(c * bh + y - by0) * bw + x - bx0]) }
            }
        }
        return values
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
    /// (`unit` runs one model run at the given settings and callbacks), the consensus one returned. Progress counts
    /// the previews' steps and then `finalSteps`, so the final run reports through `finalProgress`.
    func chooseSeed(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, candidates: Candidates,
                    callbacks: PipelineCallbacks,
                    unit: (PlanarImage, [Float], SamplingSettings, PipelineCallbacks) throws -> PlanarImage) throws
        -> (seed: UInt64, finalProgress: PipelineCallbacks) {
        let preview = candidates.previewSteps(for: settings.steps)
        let total = candidates.count * preview + settings.steps
        var signatures: [[Float]] = []
        for i in 0..<candidates.count {
            var trial = settings
            trial.steps = preview
            trial.seed = settings.seed &+ UInt64(i)
            let offset = i * preview
            let progress = PipelineCallbacks(progress: { done, steps in callbacks.progress(offset + done * preview / max(steps, 1), total) },
                                             isCancelled: callbacks.isCancelled)
            signatures.append(Candidates.signature(try unit(image, mask, trial, progress), mask: mask))
        }
        let offset = candidates.count * preview, finalSteps = settings.steps
        let final = PipelineCallbacks(progress: { done, steps in callbacks.progress(offset + done * finalSteps / max(steps, 1), total) },
                                      isCancelled: callbacks.isCancelled)
        return (settings.seed &+ UInt64(Candidates.choose(signatures)), final)
    }
}
