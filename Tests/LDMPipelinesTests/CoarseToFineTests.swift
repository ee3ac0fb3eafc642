import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// Records every input it is asked about and predicts ε = 0: the guidance's effect on the sampler's x is read off
/// the denoiser's inputs.
final class RecordingDenoiser: Denoiser, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [[Float]] = []
    var inputs: [[Float]] { lock.withLock { recorded } }

    /// - x: [N, C, H, W] → zeros [N, C, H, W]
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        lock.withLock { recorded.append(Array(UnsafeBufferPointer(start: x.data, count: x.count))) }
        return try Tensor.zeros(x.shape)
    }
}

/// The progress reports of a run, in order.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [(done: Int, total: Int)] = []
    var reports: [(done: Int, total: Int)] { lock.withLock { log } }
    func append(_ done: Int, _ total: Int) { lock.withLock { log.append((done, total)) } }
}

/// Coarse-to-fine filling of large holes: the hole measure, the coarse size, the low-pass and the guided sampling.
@Suite struct CoarseToFineTests {
    /// The plain twin of `largestSquare`: every top-left corner and side, checked pixel by pixel.
    static func bruteForceSquare(_ mask: [Float], _ w: Int, _ h: Int) -> Int {
        var best = 0
        for y in 0..<h {
            for x in 0..<w {
                var side = best + 1
                while y + side <= h, x + side <= w,
                      (y..<(y + side)).allSatisfy({ yy in (x..<(x + side)).allSatisfy { mask[yy * w + $0] >= 0.5 } }) {
                    best = side
                    side += 1
                }
            }
        }
        return best
    }

    @Test(arguments: [(1, 1), (7, 5), (13, 17), (31, 9), (24, 24)])
    func largestSquareMatchesTheBruteForce(_ size: (Int, Int)) {
        let (w, h) = size
        var generator = TorchGenerator(seed: UInt64(w * 100 + h))
        for density in [0.3, 0.7, 0.95] {
            let mask = (0..<(w * h)).map { _ in Double(generator.random()) / Double(UInt32.max) < density ? Float(1) : 0 }
            #expect(CoarseToFine.largestSquare(mask, width: w, height: h) == Self.bruteForceSquare(mask, w, h), "\(w)x\(h) at \(density)")
        }
        #expect(CoarseToFine.largestSquare([Float](repeating: 1, count: w * h), width: w, height: h) == min(w, h))
        #expect(CoarseToFine.largestSquare([Float](repeating: 0, count: w * h), width: w, height: h) == 0)
    }

    @Test func theCoarseSizeMakesTheHoleTheLimit() {
        let (w, h) = (100, 80)
        let mask = InpaintingStrategyTests.mask(w, h, boxes: [(30, 20, 70, 60)])  // a 40-pixel square
        #expect(CoarseToFine(holeLimit: 40).coarseSize(mask: mask, width: w, height: h, minimumSide: 8) == nil)
        let half = CoarseToFine(holeLimit: 20).coarseSize(mask: mask, width: w, height: h, minimumSide: 8)
        #expect(half?.width == 50 && half?.height == 40 && half?.hole == 40)
        // The minimum side wins over the limit: the short side stays at 60.
        let floor = CoarseToFine(holeLimit: 16).coarseSize(mask: mask, width: w, height: h, minimumSide: 60)
        #expect(floor?.width == 75 && floor?.height == 60)
        #expect(CoarseToFine(holeLimit: 16).coarseSize(mask: mask, width: w, height: h, minimumSide: 80) == nil)
        // Thin strokes, however long, are no large hole.
        let stroke = InpaintingStrategyTests.mask(w, h, boxes: [(0, 40, 100, 46)])
        #expect(CoarseToFine(holeLimit: 16).coarseSize(mask: stroke, width: w, height: h, minimumSide: 8) == nil)
    }

    /// The plain twin of `LowPass.blur`: the 2-D sum over the outer product of the taps, edges clamped.
    static func plainBlur(_ x: [Float], _ c: Int, _ h: Int, _ w: Int, _ k: [Float]) -> [Float] {
        let r = k.count / 2
        var out = [Float](repeating: 0, count: x.count)
        for ch in 0..<c {
            for y in 0..<h {
                for xx in 0..<w {
                    var sum: Double = 0
                    for i in -r...r {
                        for j in -r...r {
                            sum += Double(k[i + r] * k[j + r]) * Double(x[ch * h * w + min(max(y + i, 0), h - 1) * w + min(max(xx + j, 0), w - 1)])
                        }
                    }
                    out[ch * h * w + y * w + xx] = Float(sum)
                }
            }
        }
        return out
    }

    @Test(arguments: [(1, 1, 1), (2, 3, 7), (3, 9, 4), (4, 16, 11)])
    func lowPassMatchesThePlainTwin(_ shape: (Int, Int, Int)) throws {
        let (c, h, w) = shape
        var generator = TorchGenerator(seed: 7)
        let x = generator.normal(c * h * w)
        for sigma: Float in [0, 0.7, 2] {
            let kernel = LowPass.gaussian(sigma: sigma)
            #expect(abs(kernel.reduce(0, +) - 1) < 1e-6 && kernel.count % 2 == 1)
            var fast = x
            fast.withUnsafeMutableBufferPointer { LowPass.blur($0.baseAddress!, channels: c, height: h, width: w, kernel: kernel) }
            let plain = Self.plainBlur(x, c, h, w, kernel)
            for i in x.indices { #expect(abs(fast[i] - plain[i]) < 1e-5, "\(shape) σ \(sigma) at \(i)") }
            if sigma == 0 { #expect(fast == x) }
        }
    }

    /// With the whole latent guided and no blur, every evaluation after the first sees exactly the reference
    /// noised to its step with the run's own initial noise (ILVR's replacement); share 0 is the unguided run.
    @Test func guidanceReplacesTheGuidedLowFrequencies() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let model = try LatentDiffusionModel(weights: weights)
        let setup = SamplingSetup(weights, defaultSetAlphaToOne: false)
        let settings = SamplingSettings(sampler: .ddim, steps: 5, seed: 11)
        let shape = [1, model.firstStage.latentChannels, 6, 5]
        var generator = TorchGenerator(seed: 99)
        let clean = try Tensor(shape: shape, values: generator.normal(shape.reduce(1, *)))
        let count = clean.count
        var seeded = TorchGenerator(seed: settings.seed)
        let noise = seeded.normal(count)

        let guided = RecordingDenoiser()
        var loop = DiffusionLoop(model: model, sampler: setup.sampler(settings))
        _ = try loop.guided(clean, region: [Float](repeating: 1, count: 30), blur: 0, share: 1, denoiser: guided, settings: settings,
                            callbacks: .init(), workspace: Workspace())
        let sampler = try #require(setup.sampler(settings) as? DDIMSampler)
        #expect(guided.inputs.count == 5)
        #expect(guided.inputs[0] == noise)
        for step in 1..<5 {
            let (a, b) = sampler.forwardCoefficients(beforeStep: step)
            // x + (y − x) is y up to the rounding of the two float32 operations: an ulp or two of the values (< 4.8e-7 each).
            for i in 0..<count {
                let y = a * clean.data[i] + b * noise[i]
                #expect(abs(guided.inputs[step][i] - y) <= 1e-6 * (1 + abs(y)), "step \(step) at \(i)")
            }
        }

        // Share 0 and an empty region both leave the run as it is without guidance.
        let plain = RecordingDenoiser(), none = RecordingDenoiser(), outside = RecordingDenoiser()
        var unguided = DiffusionLoop(model: model, sampler: setup.sampler(settings))
        let reference = try unguided.run(plain, latentShape: shape, settings: settings, callbacks: .init(), workspace: Workspace())
        let zeroShare = try loop.guided(clean, region: [Float](repeating: 1, count: 30), blur: 1, share: 0, denoiser: none,
                                        settings: settings, callbacks: .init(), workspace: Workspace())
        let emptyRegion = try loop.guided(clean, region: [Float](repeating: 0, count: 30), blur: 1, share: 1, denoiser: outside,
                                          settings: settings, callbacks: .init(), workspace: Workspace())
        #expect(none.inputs == plain.inputs && outside.inputs == plain.inputs)
        let r = Array(UnsafeBufferPointer(start: reference.data, count: reference.count))
        #expect(Array(UnsafeBufferPointer(start: zeroShare.data, count: zeroShare.count)) == r)
        #expect(Array(UnsafeBufferPointer(start: emptyRegion.data, count: emptyRegion.count)) == r)
    }

    /// End to end on the tiny inpainting fixture: a hole above the limit runs two passes and says so, changes only
    /// masked pixels, and differs from the one-pass fill; one within the limit is the one-pass fill exactly.
    @Test func largeHolesRunInTwoPassesSmallOnesInOne() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let (w, h) = (96, 80)
        let source = InpaintingStrategyTests.image(w, h)
        let mask = InpaintingStrategyTests.mask(w, h, boxes: [(24, 20, 72, 60)])  // a 40-pixel square
        let settings = SamplingSettings(steps: 3, seed: 5)
        let options = LargeImageOptions(strategy: .full)
        let onePass = try pipeline.run(source, mask: mask, settings: settings, options: options)
        let within = try pipeline.run(source, mask: mask, settings: settings, options: options, coarseToFine: CoarseToFine(holeLimit: 40))
        #expect(within.plan == "full" && within.image.rgb == onePass.image.rgb)
        let progress = ProgressLog()
        let callbacks = PipelineCallbacks(progress: { done, total in progress.append(done, total) })
        let twoPass = try pipeline.run(source, mask: mask, settings: settings, options: options,
                                       coarseToFine: CoarseToFine(holeLimit: 20, share: 0.7), callbacks: callbacks)
        #expect(twoPass.plan == "full; coarse 48x40 for a 40 px hole, guided 0.7", "\(twoPass.plan)")
        #expect(progress.reports.map(\.done) == [1, 2, 3, 4, 5, 6] && progress.reports.allSatisfy { $0.total == 6 })
        var changed = 0
        for c in 0..<3 {
            for p in 0..<(w * h) {
                let (a, b) = (twoPass.image.rgb[c * w * h + p], source.rgb[c * w * h + p])
                if mask[p] < 0.5 { #expect(a == b) } else if a != onePass.image.rgb[c * w * h + p] { changed += 1 }
            }
        }
        #expect(changed > 0)
    }
}
