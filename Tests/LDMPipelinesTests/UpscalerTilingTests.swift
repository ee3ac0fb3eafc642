import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// The x4 upscaler on the blended U-Net tiles and the tiled decoder (the small model of StableDiffusionUpscaleTests):
/// every tile reads the same text context and noise level and runs the whole guidance batch, so guidance mixes per
/// tile before the blend.
@Suite struct UpscalerTilingTests {
    static let weights = Result { try ModelWeights.open(SDUpscaleFixture.folder) }
    static let model = Result { try LatentDiffusionModel(weights: try weights.get()) }

    static func image(width: Int, height: Int) -> PlanarImage {
        PlanarImage(width: width, height: height, rgb: (0..<(3 * width * height)).map { i in
            let p = i % (width * height), (y, x) = (p / width, p % width)
            return 0.5 + 0.4 * sin(Float(x) / 5 + Float(i / (width * height))) * cos(Float(y) / 7)
        })
    }

    /// One guided evaluation on 16/8 tiles of a 24×40 latent: the batch-2 tiles ([negative; prompt] context) mix to the
    /// same ε as the two contexts tiled one at a time and mixed after (up to float rounding), and the tiled ε stays near
    /// the untiled one (GroupNorm and attention see a tile, not the image; a regression guard, the figure is printed).
    @Test func guidanceBatchRunsPerTile() throws {
        let model = try Self.model.get()
        let text = try #require(model.text)
        let ws = Workspace()
        let context = try text.context(TextPrompt("a white cat", negativePrompt: "blurry", guidance: 9), workspace: ws)
        let (h, w) = (24, 40)
        let image = try Tensor(shape: [1, 3, h, w], values: (0..<(3 * h * w)).map { sin(Float($0) / 17) })
        let x = try Tensor(shape: [1, 4, h, w], values: (0..<(4 * h * w)).map { cos(Float($0) / 13) })
        let tiles = TilingSettings(unetTile: 16, unetOverlap: 8, vqTile: 128, vqOverlap: 32)
        func denoiser(_ context: Tensor, _ tiling: TilingSettings) -> TextConditionedDenoiser {
            TextConditionedDenoiser(unet: model.unet, conditioning: image, context: context, latentHeight: h, latentWidth: w, tiling: tiling,
                                    classLabel: 20)
        }
        let tiled = denoiser(context, tiles)
        #expect(tiled.grid.tiles.count == 8)
        let guided = try ClassifierFreeGuidance(pair: tiled, scale: 9).noise(x, timestep: 500, workspace: ws).copy()
        var rows: [Tensor] = []
        for row in 0..<2 {
            let one = try Tensor(shape: [1, 77, context.shape[2]], values: Array(UnsafeBufferPointer(start: context.data + row * 77 * context.shape[2],
                                                                                                     count: 77 * context.shape[2])))
            rows.append(try denoiser(one, tiles).noise(x, timestep: 500, workspace: ws).copy())
        }
        let mixed = zip(rows[0].values, rows[1].values).map { $0 + 9 * ($1 - $0) }
        let cmp = Comparison(guided.values, mixed)
        #expect(cmp.maxAbs <= 1e-4 * max(1, Double(mixed.map { abs($0) }.max() ?? 0)), "\(cmp)")

        let whole = try ClassifierFreeGuidance(pair: denoiser(context, .none), scale: 9).noise(x, timestep: 500, workspace: ws)
        let psnr = TilingTests.psnr(whole, guided, range: 2)
        print("x4 U-Net tile 16/8 on 24x40, guided: \(tiled.grid.tiles.count) tiles, ε PSNR \(String(format: "%.1f", psnr)) dB")
        #expect(psnr >= 20)
    }

    /// A whole run with U-Net and decoder tiles: identical for 1 and 2 threads, near the untiled run; tiles larger
    /// than the image are the untiled run, bit for bit.
    @Test func tiledUpscaleIsDeterministicAndNearUntiled() throws {
        let weights = try Self.weights.get()
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try Self.model.get())
        let image = Self.image(width: 30, height: 22)
        var settings = SamplingSettings(sampler: .ddim, steps: 3, seed: 5, tiling: TilingSettings(unetTile: 16, unetOverlap: 8, vqTile: 12, vqOverlap: 4),
                                        text: TextPrompt("a white cat", guidance: 9))
        settings.noiseLevel = 30
        let (one, seenOne) = try withObservedThreads(1) { try pipeline.run(image, settings: settings) }
        let (two, seenTwo) = try withObservedThreads(2) { try pipeline.run(image, settings: settings) }
        #expect(seenOne == 1 && seenTwo == 2)
        #expect(one.rgb == two.rgb && one.width == 120 && one.height == 88)
        var untiledSettings = settings
        untiledSettings.tiling = .none
        let untiled = try pipeline.run(image, settings: untiledSettings)
        let a = try Tensor(shape: [1, 3, 88, 120], values: one.rgb.map { 2 * $0 - 1 })
        let b = try Tensor(shape: [1, 3, 88, 120], values: untiled.rgb.map { 2 * $0 - 1 })
        let psnr = TilingTests.psnr(a, b, range: 2)
        print("x4 upscale 30x22 → 120x88, U-Net 16/8 and decoder 12/4 tiles vs untiled: PSNR \(String(format: "%.1f", psnr)) dB")
        #expect(psnr >= 20)
        settings.tiling = TilingSettings(unetTile: 4096, unetOverlap: 64, vqTile: 4096, vqOverlap: 32)
        #expect(try pipeline.run(image, settings: settings).rgb == untiled.rgb)
    }

    /// The memory planner probes the x4 U-Net (guidance batch, 77-token context, class labels) and shrinks the tiles of a
    /// 512² → 2048² upscale to a ceiling.
    @Test func memoryPlannerShrinksTilesForALargeUpscale() throws {
        let weights = try Self.weights.get()
        let planner = try MemoryPlanner(model: try Self.model.get(), weightBytes: weights.memoryBytes)
        let free = planner.estimate(latentHeight: 512, latentWidth: 512, tiling: .standard, encodes: false)
        let budget = free.total - 1
        let (tiling, estimate) = try planner.plan(latentHeight: 512, latentWidth: 512, preferred: .standard, budget: budget, encodes: false)
        #expect(tiling != .standard && estimate.total <= budget)
        #expect(estimate.encoder == 0 && estimate.images == 36 * 2048 * 2048)
    }
}
