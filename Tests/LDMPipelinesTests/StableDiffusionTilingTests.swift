import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// U-Net tiles for the text-conditioned (Stable Diffusion) denoiser, on the small SD inpainting fixture model: the
/// batch rows of a guided evaluation are tiled together as channels of one image, so each row must come out as
/// if it had been tiled alone; where only one tile covers a position, ε is that tile's U-Net output there; and
/// a tiled inpaint keeps the unmasked pixels exact.
@Suite struct StableDiffusionTilingTests {
    static let weights = Result { try ModelWeights.open(SDInpaintFixture.folder) }
    static let model = Result { try LatentDiffusionModel(weights: try weights.get()) }

    /// A deterministic pseudo-random tensor (values in [−1, 1]).
    static func tensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
        var g = TorchGenerator(seed: seed)
        return try Tensor(shape: shape, values: g.normal(shape.reduce(1, *)).map { max(-1, min(1, $0 / 2)) })
    }

    @Test func tiledRowsMatchEachRowAloneAndSingleCoverTiles() throws {
        let model = try Self.model.get()
        let unet = model.unet
        let (h, w, z) = (24, 40, 4)
        let tiling = TilingSettings(unetTile: 16, unetOverlap: 6, vqTile: 128, vqOverlap: 32)
        let conditioning = try Self.tensor([1, unet.config.inChannels - z, h, w], seed: 3)
        let context = try Self.tensor([2, 77, 16], seed: 4)
        let x = try Self.tensor([2, z, h, w], seed: 5)
        let ws = Workspace()
        let pair = TextConditionedDenoiser(unet: unet, conditioning: conditioning, context: context, latentHeight: h, latentWidth: w,
                                           tiling: tiling)
        #expect(pair.grid.tiles.count > 4, "the test needs several tiles: \(pair.grid.tiles.count)")
        let eps = try pair.noise(x, timestep: 500, workspace: ws).values
        #expect(eps.allSatisfy { $0.isFinite })
        let plane = z * h * w
        for row in 0..<2 {
            let ctx = try Tensor(shape: [1, 77, 16], values: Array(context.values[(row * 77 * 16)..<((row + 1) * 77 * 16)]))
            let xr = try Tensor(shape: [1, z, h, w], values: Array(x.values[(row * plane)..<((row + 1) * plane)]))
            let alone = TextConditionedDenoiser(unet: unet, conditioning: conditioning, context: ctx, latentHeight: h, latentWidth: w,
                                                tiling: tiling)
            let single = try alone.noise(xr, timestep: 500, workspace: ws).values
            let diff = zip(single, eps[(row * plane)..<((row + 1) * plane)]).map { abs($0 - $1) }.max() ?? 1
            // The same U-Net on the same windows; batch 2 vs batch 1 changes only GEMM blocking (float rounding).
            #expect(diff <= 1e-5, "row \(row): tiled at batch 2 vs alone \(diff)")
        }
        // Positions covered by exactly one tile hold that tile's own ε (the first row).
        var checked = 0
        for tile in pair.grid.tiles {
            let window = try x.reshaped([1, 2 * z, h, w]).window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
            let c = try conditioning.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
            let own = try TextConditionedDenoiser(unet: unet, conditioning: c, context: context, latentHeight: tile.height,
                                                  latentWidth: tile.width, tiling: .none)
                .noise(try window.reshaped([2, z, tile.height, tile.width]), timestep: 500, workspace: ws).values
            for ty in 0..<tile.height {
                for tx in 0..<tile.width {
                    let (py, px) = (tile.y + ty, tile.x + tx)
                    let covers = pair.grid.tiles.filter { py >= $0.y && py < $0.y + $0.height && px >= $0.x && px < $0.x + $0.width }
                    guard covers.count == 1 else { continue }
                    for ch in 0..<z {
                        let mine = eps[(ch * h + py) * w + px], theirs = own[(ch * tile.height + ty) * tile.width + tx]
                        #expect(abs(mine - theirs) <= 1e-6, "(\(py), \(px)) channel \(ch): \(mine) vs \(theirs)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 0)
    }

    @Test func tiledInpaintKeepsTheSourceOutsideTheMask() throws {
        let weights = try Self.weights.get()
        let pipeline = try InpaintingPipeline(weights: weights, model: try Self.model.get())
        let (w, h) = (160, 96)
        let image = PlanarImage(width: w, height: h, rgb: (0..<(3 * w * h)).map { Float(($0 * 7919) % 256) / 255 })
        let mask = (0..<(w * h)).map { p -> Float in (p % w) > 40 && (p % w) < 120 && (p / w) > 20 && (p / w) < 70 ? 1 : 0 }
        let tiling = TilingSettings(unetTile: 8, unetOverlap: 2, vqTile: 128, vqOverlap: 32)
        let settings = SamplingSettings(sampler: .ddim, steps: 2, seed: 9, tiling: tiling, text: TextPrompt("a wall", guidance: 7.5))
        let tiled = try pipeline.run(image, mask: mask, settings: settings)
        var whole = settings
        whole.tiling = .standard
        let untiled = try pipeline.run(image, mask: mask, settings: whole)
        for p in 0..<(w * h) where mask[p] < 0.5 {
            for c in 0..<3 { #expect(tiled.rgb[c * w * h + p] == image.rgb[c * w * h + p]) }
        }
        #expect(tiled.rgb.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        // The tiles change the fill (a different U-Net input per tile), so tiled and whole runs differ inside the mask.
        #expect(tiled.rgb != untiled.rgb)
    }
}
