import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// Issue 9: inpainting large images by crop windows, resizing, or whole (tiled).
@Suite struct InpaintingStrategyTests {
    static func image(_ w: Int, _ h: Int) -> PlanarImage {
        PlanarImage(width: w, height: h, rgb: (0..<(3 * w * h)).map { Float(($0 * 29 + $0 / 7) % 256) / 255 })
    }

    static func mask(_ w: Int, _ h: Int, boxes: [(Int, Int, Int, Int)]) -> [Float] {
        var m = [Float](repeating: 0, count: w * h)
        for (x0, y0, x1, y1) in boxes { for y in y0..<y1 { for x in x0..<x1 { m[y * w + x] = 1 } } }
        return m
    }

    @Test func cropWindowsCoverEveryRegionAndMergeNeighbours() {
        let (w, h) = (300, 200)
        // Two regions far apart, two close ones (their margins overlap), one touching the right and bottom edges.
        let m = Self.mask(w, h, boxes: [(10, 10, 20, 20), (150, 20, 160, 30), (170, 20, 175, 28), (290, 190, 300, 200)])
        let windows = InpaintingPipeline.cropWindows(mask: m, width: w, height: h, margin: 8, minimumSide: 32)
        #expect(windows.count == 3)
        for y in 0..<h {
            for x in 0..<w where m[y * w + x] >= 0.5 {
                #expect(windows.contains { $0.x0 <= x && x < $0.x1 && $0.y0 <= y && y < $0.y1 }, "(\(x), \(y)) not covered")
            }
        }
        for (i, a) in windows.enumerated() {
            #expect(a.x0 >= 0 && a.y0 >= 0 && a.x1 <= w && a.y1 <= h && a.width >= 32 && a.height >= 32)
            for b in windows[(i + 1)...] { #expect(!a.intersects(b)) }
        }
        // The edge region's window stays inside the image and still has the minimum size.
        let edge = windows.first { $0.x1 == w && $0.y1 == h }
        #expect(edge?.width == 32 && edge?.height == 32)
        #expect(InpaintingPipeline.cropWindows(mask: [Float](repeating: 0, count: 100), width: 10, height: 10, margin: 4).isEmpty)
    }

    @Test func strategiesChangeOnlyMaskedPixels() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/inp")
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let (w, h) = (150, 90)
        let source = Self.image(w, h)
        let m = Self.mask(w, h, boxes: [(5, 5, 15, 12), (120, 70, 150, 90)])  // one touches two edges
        let settings = SamplingSettings(steps: 2, seed: 3)
        for strategy in [InpaintingStrategy.crop, .resize, .full] {
            let options = LargeImageOptions(strategy: strategy, cropMargin: 16, resizeLimit: 64)
            let (result, plan) = try pipeline.run(source, mask: m, settings: settings, options: options)
            #expect(result.width == w && result.height == h)
            var changed = 0
            for c in 0..<3 {
                for p in 0..<(w * h) {
                    if m[p] < 0.5 { #expect(result.rgb[c * w * h + p] == source.rgb[c * w * h + p]) } else if result.rgb[c * w * h + p] != source.rgb[c * w * h + p] { changed += 1 }
                }
            }
            #expect(changed > 0, "\(strategy): the hole was filled")
            #expect(plan.hasPrefix(strategy == .crop ? "crop 2:" : strategy == .resize ? "resize 64x38" : "full"), "\(plan)")
        }
        // auto: full for small images; crop above the limit.
        #expect(LargeImageOptions().resolved(width: 1024, height: 700) == .full)
        #expect(LargeImageOptions().resolved(width: 1025, height: 700) == .crop)
        // A crop of the whole image runs the same model call as `full` (same seed, same window).
        let whole = Self.mask(w, h, boxes: [(0, 0, w, h)])
        let cropped = try pipeline.run(source, mask: whole, settings: settings, options: LargeImageOptions(strategy: .crop, cropMargin: 0)).image
        let full = try pipeline.run(source, mask: whole, settings: settings, options: LargeImageOptions(strategy: .full)).image
        #expect(cropped.rgb == full.rgb)
    }

    /// The planner shrinks tiles to fit a ceiling, and refuses before any work when nothing fits.
    @Test func plannerFitsTheBudgetOrRefuses() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let model = try LatentDiffusionModel(weights: weights)
        let planner = try MemoryPlanner(model: model, weightBytes: weights.parameterCount * 4)
        let roomy = try planner.plan(latentHeight: 512, latentWidth: 512, preferred: .standard, budget: 64 << 30, encodes: false)
        #expect(roomy.tiling == .standard)
        let smallest = planner.estimate(latentHeight: 512, latentWidth: 512, tiling: TilingSettings(unetTile: 64, unetOverlap: 16, vqTile: 32, vqOverlap: 8), encodes: false)
        #expect(smallest.total < roomy.estimate.total)
        let tight = (roomy.estimate.total + smallest.total) / 2
        let fitted = try planner.plan(latentHeight: 512, latentWidth: 512, preferred: .standard, budget: tight, encodes: false)
        #expect(fitted.estimate.total <= tight)
        #expect(fitted.tiling.unetTile < TilingSettings.standard.unetTile || fitted.tiling.vqTile < TilingSettings.standard.vqTile)
        #expect(throws: PipelineError.self) {
            try planner.plan(latentHeight: 512, latentWidth: 512, preferred: .standard, budget: 1 << 20, encodes: false)
        }
    }
}
