import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// Choosing among candidate seeds: the signature against a plain twin, the consensus choice against the pairwise
/// definition, and the pipeline end to end on the tiny fixture.
@Suite struct CandidatesTests {
    /// The plain twin of `Candidates.signature`: the whole image blurred by a direct 2-D Gaussian sum with the window's
    /// clamped edges, then read at every `spacing`-th hole pixel of the hole's bounding box.
    static func plainSignature(_ image: PlanarImage, mask: [Float]) -> [Float] {
        let (w, h) = (image.width, image.height)
        let hole = (0..<(w * h)).filter { mask[$0] > 0 }
        guard !hole.isEmpty else { return [] }
        let (x0, x1) = (hole.map { $0 % w }.min()!, hole.map { $0 % w }.max()! + 1)
        let (y0, y1) = (hole.map { $0 / w }.min()!, hole.map { $0 / w }.max()! + 1)
        let taps = LowPass.gaussian(sigma: Candidates.sigma)
        let r = taps.count / 2
        let (bx0, by0, bx1, by1) = (max(x0 - r, 0), max(y0 - r, 0), min(x1 + r, w), min(y1 + r, h))
        var values: [Float] = []
        for y in stride(from: y0, to: y1, by: Candidates.spacing) {
            for x in stride(from: x0, to: x1, by: Candidates.spacing) where mask[y * w + x] > 0 {
                for c in 0..<3 {
                    var sum = 0.0
                    for dy in -r...r {
                        for dx in -r...r {
                            let (yy, xx) = (min(max(y + dy, by0), by1 - 1), min(max(x + dx, bx0), bx1 - 1))
                            sum += Double(taps[dy + r] * taps[dx + r]) * Double(image.rgb[(c * h + yy) * w + xx])
                        }
                    }
                    values.append(Float(sum))
                }
            }
        }
        return values
    }

    static func randomImage(_ w: Int, _ h: Int, seed: UInt64) -> PlanarImage {
        var generator = TorchGenerator(seed: seed)
        return PlanarImage(width: w, height: h, rgb: (0..<(3 * w * h)).map { _ in Float(generator.random()) / Float(UInt32.max) })
    }

    @Test(arguments: [(1, 1), (7, 5), (13, 17), (40, 9), (33, 41)])
    func theSignatureMatchesThePlainTwin(_ size: (Int, Int)) {
        let (w, h) = size
        let image = Self.randomImage(w, h, seed: UInt64(w * 1000 + h))
        var generator = TorchGenerator(seed: UInt64(h * 1000 + w))
        for density in [0.05, 0.5, 1.0] {
            // Soft values too: any value above 0 is repainted.
            let mask = (0..<(w * h)).map { _ -> Float in
                let u = Float(generator.random()) / Float(UInt32.max)
                return u < Float(density) ? max(u, 0.01) : 0
            }
            let fast = Candidates.signature(image, mask: mask), plain = Self.plainSignature(image, mask: mask)
            #expect(fast.count == plain.count, "\(w)x\(h) at \(density)")
            // Separable float32 sums against one double sum: a few ulps of values in [0, 1].
            #expect(zip(fast, plain).allSatisfy { abs($0 - $1) <= 2e-6 }, "\(w)x\(h) at \(density)")
        }
        #expect(Candidates.signature(image, mask: [Float](repeating: 0, count: w * h)).isEmpty)
    }

    @Test func theChoiceMinimisesTheSummedPairwiseDistance() {
        var generator = TorchGenerator(seed: 11)
        for (count, length) in [(2, 1), (3, 7), (5, 30), (16, 12)] {
            let signatures = (0..<count).map { _ in (0..<length).map { _ in Float(generator.random()) / Float(UInt32.max) } }
            let risk = signatures.map { a in signatures.reduce(0.0) { sum, b in sum + zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } } }
            let best = risk.indices.min { risk[$0] < risk[$1] }!
            let chosen = Candidates.choose(signatures)
            // Equal up to rounding: the two sums order near-ties alike only to float precision.
            #expect(risk[chosen] <= risk[best] * (1 + 1e-9), "\(count) × \(length)")
        }
        // The one nearest the mean (3.25, 3.25), not the outlier.
        #expect(Candidates.choose([[0, 0], [10, 10], [1, 1], [2, 2]]) == 3)
        #expect(Candidates.choose([[], []]) == 0)
        #expect(Candidates.choose([[3], [3], [3]]) == 0)
    }

    /// The plain twin of `Candidates.blend`: the difference mean − fill blurred by a direct 2-D Gaussian sum over the
    /// hole's bounding box grown by the blur's radius (edges clamped to it), added in the hole weighted by the mask.
    static func plainBlend(_ fill: PlanarImage, mean: [Float], mask: [Float]) -> PlanarImage {
        let (w, h) = (fill.width, fill.height)
        let hole = (0..<(w * h)).filter { mask[$0] > 0 }
        guard !hole.isEmpty else { return fill }
        let (x0, x1) = (hole.map { $0 % w }.min()!, hole.map { $0 % w }.max()! + 1)
        let (y0, y1) = (hole.map { $0 / w }.min()!, hole.map { $0 / w }.max()! + 1)
        let taps = LowPass.gaussian(sigma: Candidates.sigma)
        let r = taps.count / 2
        let (bx0, by0, bx1, by1) = (max(x0 - r, 0), max(y0 - r, 0), min(x1 + r, w), min(y1 + r, h))
        var out = fill
        for i in hole {
            let (x, y) = (i % w, i / w)
            for c in 0..<3 {
                var sum = 0.0
                for dy in -r...r {
                    for dx in -r...r {
                        let j = (c * h + min(max(y + dy, by0), by1 - 1)) * w + min(max(x + dx, bx0), bx1 - 1)
                        sum += Double(taps[dy + r] * taps[dx + r]) * Double(mean[j] - fill.rgb[j])
                    }
                }
                out.rgb[(c * h + y) * w + x] += mask[i] * Float(sum)
            }
        }
        return out
    }

    @Test(arguments: [(1, 1), (7, 5), (13, 17), (40, 9), (33, 41)])
    func theBlendMatchesThePlainTwin(_ size: (Int, Int)) {
        let (w, h) = size
        let fill = Self.randomImage(w, h, seed: UInt64(w * 7 + h))
        let mean = Self.randomImage(w, h, seed: UInt64(h * 7 + w + 1)).rgb
        var generator = TorchGenerator(seed: UInt64(w + h))
        for density in [0.05, 0.5, 1.0] {
            let mask = (0..<(w * h)).map { _ -> Float in
                let u = Float(generator.random()) / Float(UInt32.max)
                return u < Float(density) ? max(u, 0.01) : 0
            }
            let fast = Candidates.blend(fill, mean: mean, mask: mask), plain = Self.plainBlend(fill, mean: mean, mask: mask)
            #expect(zip(fast.rgb, plain.rgb).allSatisfy { abs($0 - $1) <= 2e-6 }, "\(w)x\(h) at \(density)")
            // Outside the hole the fill is untouched, bit for bit.
            #expect((0..<(3 * w * h)).allSatisfy { mask[$0 % (w * h)] > 0 || fast.rgb[$0] == fill.rgb[$0] }, "\(w)x\(h)")
        }
        // A mean equal to the fill changes nothing; an empty hole neither.
        #expect(Candidates.blend(fill, mean: fill.rgb, mask: [Float](repeating: 1, count: w * h)) == fill)
        #expect(Candidates.blend(fill, mean: mean, mask: [Float](repeating: 0, count: w * h)) == fill)
    }

    @Test func previewStepsDefaultToAShareOfTheSteps() {
        #expect(Candidates(count: 4).previewSteps(for: 15) == 6)
        #expect(Candidates(count: 4).previewSteps(for: 50) == 20)
        #expect(Candidates(count: 4).previewSteps(for: 1) == 1)
        #expect(Candidates(count: 4, previewSteps: 3).previewSteps(for: 50) == 3)
    }

    /// End to end on the tiny inpainting fixture: the result is exactly the chosen seed's own run at the full steps,
    /// the chosen seed is the consensus of the previews (computed here from runs of each seed), progress counts every
    /// preview step and then the final steps, and each crop window chooses on its own.
    @Test func theResultIsTheChosenSeedsOwnFill() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let (w, h) = (64, 48)
        let source = InpaintingStrategyTests.image(w, h)
        let mask = InpaintingStrategyTests.mask(w, h, boxes: [(16, 12, 44, 36)])
        let settings = SamplingSettings(steps: 5, seed: 40)
        let options = LargeImageOptions(strategy: .full)
        let candidates = Candidates(count: 3, previewSteps: 2)
        let previews = try (0..<3).map { i in
            try pipeline.run(source, mask: mask, settings: SamplingSettings(steps: 2, seed: 40 + UInt64(i)), options: options).image
        }
        let expected = 40 + UInt64(Candidates.choose(previews.map { Candidates.signature($0, mask: mask) }))
        let progress = ProgressLog()
        let chosen = try pipeline.run(source, mask: mask, settings: settings, options: options, candidates: candidates,
                                      callbacks: PipelineCallbacks(progress: { progress.append($0, $1) }))
        #expect(chosen.plan == "full; seed \(expected) of 3 candidates (2-step previews)", "\(chosen.plan)")
        var alone = settings
        alone.seed = expected
        #expect(chosen.image.rgb == (try pipeline.run(source, mask: mask, settings: alone, options: options)).image.rgb)
        #expect(progress.reports.map(\.done) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] && progress.reports.allSatisfy { $0.total == 11 },
                "\(progress.reports)")

        // Blended: the same seed's fill with the previews' mean's low frequencies, computed here from the previews.
        let mean = (0..<previews[0].rgb.count).map { j in previews.reduce(Float(0)) { $0 + $1.rgb[j] } / 3 }
        let blended = try pipeline.run(source, mask: mask, settings: settings, options: options,
                                       candidates: Candidates(count: 3, previewSteps: 2, blendsMean: true))
        #expect(blended.plan == "full; seed \(expected) of 3 candidates (2-step previews, blended with their mean)", "\(blended.plan)")
        let reference = Candidates.blend(chosen.image, mean: mean, mask: mask)
        #expect(zip(blended.image.rgb, reference.rgb).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(blended.image.rgb != chosen.image.rgb)
        #expect((0..<blended.image.rgb.count).allSatisfy { mask[$0 % (w * h)] > 0 || blended.image.rgb[$0] == source.rgb[$0] })

        // Two crop windows: one note each.
        let (cw, ch) = (160, 48)
        let wide = InpaintingStrategyTests.image(cw, ch)
        let twoHoles = InpaintingStrategyTests.mask(cw, ch, boxes: [(4, 8, 20, 24), (136, 20, 156, 40)])
        let cropped = try pipeline.run(wide, mask: twoHoles, settings: settings, options: LargeImageOptions(strategy: .crop, cropMargin: 8),
                                       candidates: candidates)
        #expect(cropped.plan.components(separatedBy: "of 3 candidates").count == 3, "\(cropped.plan)")
    }

    /// The model's own default: ldm-edit's family (a conv-autoencoder first stage) previews 8 seeds blended, for
    /// inpainting only; the VQ (CompVis) inpainting model and every upscaler keep one seed.
    @Test func onlyOwnInpaintingModelsPreviewByDefault() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LDMModelsTests/Fixtures/models")
        func defaults(_ name: String) throws -> Candidates? {
            Candidates.modelDefault(for: try ModelWeights.open(models.appendingPathComponent(name).path))
        }
        #expect(try defaults("conv_inp_folder") == Candidates(count: Candidates.ownModelsCount, blendsMean: true))
        #expect(try defaults("conv_sr_folder") == nil)
        #expect(try defaults("inp_diffusers") == nil)
        #expect(try defaults("sr_diffusers") == nil)
    }
}
