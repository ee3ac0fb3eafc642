import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMPipelines

/// Issue 9: tile plans, blending, and tiled ≈ untiled on the tiny parity models.
@Suite struct TilingTests {
    static func psnr(_ a: Tensor, _ b: Tensor, range: Float = 2) -> Double {
        var mse = 0.0
        for i in 0..<a.count { mse += Double((a.data[i] - b.data[i]) * (a.data[i] - b.data[i])) }
        mse /= Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(Double(range * range) / mse)
    }

    static func smooth(_ shape: [Int]) throws -> Tensor {
        let t = try Tensor(shape: shape)
        let (c, h, w) = (shape[1], shape[2], shape[3])
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    t.data[(ch * h + y) * w + x] = 0.6 * sin(Float(x) * 0.31 + Float(ch)) * cos(Float(y) * 0.23 - Float(ch) * 0.7)
                }
            }
        }
        return t
    }

    @Test func gridsCoverThePlaneWithFullTiles() {
        for (h, w, tile, overlap, multiple) in [(1, 1, 4, 1, 1), (17, 5, 8, 3, 1), (40, 64, 16, 8, 8), (96, 96, 32, 16, 8),
                                                 (64, 200, 64, 0, 8), (24, 24, 100, 10, 8), (33, 70, 12, 11, 1)] {
            let grid = TileGrid(height: h, width: w, tile: tile, overlap: overlap, multiple: multiple)
            var covered = [Int](repeating: 0, count: h * w)
            for t in grid.tiles {
                #expect(t.height == min(grid.tile, h) && t.width == min(grid.tile, w))
                #expect(t.y >= 0 && t.x >= 0 && t.y + t.height <= h && t.x + t.width <= w)
                #expect(t.y % multiple == 0 && t.x % multiple == 0, "\(h)x\(w) tile \(tile)")
                for y in t.y..<(t.y + t.height) { for x in t.x..<(t.x + t.width) { covered[y * w + x] += 1 } }
            }
            #expect(covered.allSatisfy { $0 > 0 }, "\(h)x\(w) tile \(tile) overlap \(overlap)")
            #expect(grid.isSingleTile == (h <= grid.tile && w <= grid.tile))
        }
    }

    /// Blending a function that returns its input window gives back the input: weights are normalised.
    @Test func blendingIsAPartitionOfUnity() throws {
        let x = try Self.smooth([1, 3, 37, 53])
        let grid = TileGrid(height: 37, width: 53, tile: 16, overlap: 6)
        var blender = try TileBlender(channels: 3, height: 37, width: 53)
        for t in grid.tiles {
            blender.add(try x.window(y: t.y, x: t.x, height: t.height, width: t.width), y: t.y, x: t.x, weights: grid.weights(for: t))
        }
        let y = blender.finish()
        for i in 0..<x.count { #expect(abs(x.data[i] - y.data[i]) <= 1e-6) }
        // The ramps of two neighbours sum to 1 across a regular overlap (CompVis' are normalised instead),
        // and the outer quarter of the overlap, within reach of the tile edge's zero padding, gets ~0.
        for band in [4, 6, 7, 16, 32] {
            let ramp = TileGrid.ramp(length: 40, band: band, rampStart: true, rampEnd: false)
            for j in 0..<band { #expect(abs(ramp[j] + ramp[band - 1 - j] - 1) < 1e-6, "band \(band)") }
            for j in 0..<(band / 4) { #expect(ramp[j] == 0) }
        }
    }

    /// The VQ decoder on tiles vs at once, for a latent too large for one tile. Normalising every
    /// tile with the whole image's GroupNorm statistics isolates the tiling arithmetic (windows,
    /// padding reach, feathered blend): it must reach the 40 dB of issue 9, with and without the
    /// mid attention. The default per-tile statistics are reported (docs/performance.md) and only
    /// guarded against breakage: these gently initialised random models have activations with a
    /// variance near GroupNorm's ε, the worst case for per-tile statistics.
    @Test func tiledVQDecodeMatchesUntiled() throws {
        for kind in ["sr", "inp"] {
            let weights = try ModelWeights.open(ParityFixture.root + "/" + kind)
            let model = try LatentDiffusionModel(weights: weights)
            let ws = Workspace()
            let latent = try Self.smooth([1, 3, 41, 58])
            let whole = try model.firstStage.decode(latent, workspace: ws).copy()
            for (tile, overlap) in [(32, 20), (40, 24)] {
                let grid = TileGrid(height: 41, width: 58, tile: tile, overlap: overlap)
                #expect(!grid.isSingleTile)
                func psnr(_ mode: TileNormalisation) throws -> Double {
                    Self.psnr(whole, try model.firstStage.decode(latent, grid: grid, normalisation: mode, workspace: ws))
                }
                let (shared, local, estimated) = (try psnr(.exact), try psnr(.perTile), try psnr(.estimated))
                print("VQ decode \(kind) tile \(tile)/\(overlap): \(grid.tiles.count) tiles, PSNR image statistics \(String(format: "%.1f", shared)) dB, per-tile \(String(format: "%.1f", local)) dB, estimated \(String(format: "%.1f", estimated)) dB")
                #expect(shared >= 40, "\(kind) tile \(tile)/\(overlap)")
                #expect(local >= 20, "\(kind) tile \(tile)/\(overlap)")
            }
        }
    }

    /// The U-Net on tiles vs at once (one call): not exact, since GroupNorm and attention see a tile,
    /// not the image; the figure is documented in docs/performance.md.
    @Test func tiledUNetIsCloseToUntiled() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let model = try LatentDiffusionModel(weights: weights)
        let ws = Workspace()
        let (h, w) = (48, 64)
        let latent = try Self.smooth([1, 3, h, w]), cond = try Self.smooth([1, 3, h, w])
        for i in 0..<cond.count { cond.data[i] = -cond.data[i] * 0.8 }
        let whole = try model.predictNoise(latent, conditioning: cond, timestep: 500, workspace: ws).copy()
        let grid = TileGrid(height: h, width: w, tile: 32, overlap: 16, multiple: 4)
        let weightsPerTile = grid.tiles.map { grid.weights(for: $0) }
        let tiled = try model.predictNoise(latent, conditioning: cond, timestep: 500, grid: grid, weights: weightsPerTile, workspace: ws)
        let value = Self.psnr(whole, tiled, range: 2)
        print("U-Net tile 32/16 on 48x64: \(grid.tiles.count) tiles, eps PSNR \(String(format: "%.1f", value)) dB")
        #expect(value >= 22)  // measured 24.2 dB; a regression guard, the figure is documented
    }

    /// A latent no larger than the tiles runs untiled: the same bytes as with tiling off.
    @Test func smallImagesAreUntouchedByTiling() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let image = PlanarImage(width: 20, height: 12, rgb: (0..<(3 * 240)).map { Float(($0 * 37) % 256) / 255 })
        let a = try pipeline.run(image, settings: SamplingSettings(steps: 3, seed: 4))
        let b = try pipeline.run(image, settings: SamplingSettings(steps: 3, seed: 4, tiling: .none))
        #expect(a.rgb == b.rgb)
    }

    /// Tiled runs (U-Net and decoder tiles, odd sizes, tiles at the borders) are identical for 1 and 2
    /// threads, and a tile larger than the image equals no tiling.
    @Test func tiledPipelineIsDeterministicAcrossThreads() throws {
        let weights = try ModelWeights.open(ParityFixture.root + "/sr")
        let pipeline = try SuperResolutionPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        let image = PlanarImage(width: 45, height: 27, rgb: (0..<(3 * 45 * 27)).map { Float(($0 * 53) % 256) / 255 })
        let tiling = TilingSettings(unetTile: 16, unetOverlap: 8, vqTile: 12, vqOverlap: 4)
        let settings = SamplingSettings(steps: 2, seed: 9, tiling: tiling)
        let (one, seenOne) = try withObservedThreads(1) { try pipeline.run(image, settings: settings) }
        let (two, seenTwo) = try withObservedThreads(2) { try pipeline.run(image, settings: settings) }
        #expect(seenOne == 1 && seenTwo == 2, "threads observed inside the kernels: \(seenOne), \(seenTwo)")
        #expect(one.rgb == two.rgb && one.width == 90 && one.height == 54)
        let huge = TilingSettings(unetTile: 4096, unetOverlap: 64, vqTile: 4096, vqOverlap: 32)
        let big = try pipeline.run(image, settings: SamplingSettings(steps: 2, seed: 9, tiling: huge))
        let none = try pipeline.run(image, settings: SamplingSettings(steps: 2, seed: 9, tiling: .none))
        #expect(big.rgb == none.rgb)
    }
}
