import LDMModels
import LDMParallel
import LDMTensor

/// Estimates a pipeline run's peak memory and picks a tile plan that fits a budget.
///
/// The model's own allocator is the measure: two tiny probe calls (U-Net at 16² and 32² latent,
/// first-stage decoder and encoder at 8² and 16²) in fresh workspaces give the tensor-pool bytes per latent
/// position, which grow with the tile area, and the scratch bytes, which the kernels cap (im2col
/// bands, attention score blocks). Peak = process baseline + weights + image-sized buffers + the
/// largest of the U-Net, decoder and encoder phases (the workspace is emptied between phases).
/// docs/performance.md compares the estimates with measured peak RSS.
public struct MemoryPlanner: Sendable {
    public struct Estimate: Sendable, Equatable, CustomStringConvertible {
        public var baseline: Int
        public var weights: Int
        public var images: Int
        public var unet: Int
        public var decoder: Int
        public var encoder: Int
        /// Buffers outside the model run (e.g. the whole image while a crop of it is inpainted).
        public var other: Int = 0
        public var total: Int { baseline + weights + images + other + max(unet, decoder, encoder) }

        public var description: String {
            func mb(_ b: Int) -> String { "\((b + (1 << 19)) >> 20) MiB" }
            return "\(mb(total)) (weights \(mb(weights)), image buffers \(mb(images)), U-Net tile \(mb(unet)), decoder tile \(mb(decoder)), encoder tile \(mb(encoder)), base \(mb(baseline)))"
        }
    }

    /// Process, libraries and OpenBLAS buffers, measured at startup of `ldm-edit` (~60 MB), doubled.
    static let baselineBytes = 128 << 20
    /// Bytes per output pixel of the image-sized buffers, counted from the pipelines: super-resolution
    /// keeps the decoded tensor, its blend weights, the planar result and the output raster
    /// (4·3 + 4 + 4·3 + 8 ≈ 36); inpainting also the source planar image, padded tensor, mask
    /// and masked image (≈ 72).
    static func imageBytesPerPixel(_ task: ModelTask) -> Int { task == .superResolution ? 36 : 72 }

    let task: ModelTask
    let firstStage: FirstStage
    let weightBytes: Int
    let unetMultiple: Int
    let f: Int
    let unetProbe: (perPosition: Double, scratch: Int)
    let decoderProbe: (perPosition: Double, scratch: Int)
    let encoderProbe: (perPosition: Double, scratch: Int)

    /// Probes `model` (well under a second for the full-size models on 2 cores). `weightBytes`: the
    /// model's weights as held in memory (`ModelWeights.memoryBytes`: 16-bit files at 2 bytes a value);
    /// the scratch a 16-bit layer is widened into each call is in the probes' scratch high-water mark.
    public init(model: LatentDiffusionModel, weightBytes: Int) throws {
        task = model.task
        firstStage = model.firstStage
        self.weightBytes = weightBytes
        unetMultiple = model.unet.config.downsamplingFactor
        f = model.firstStage.downsamplingFactor
        let unet = model.unet, stage = model.firstStage, m = unetMultiple
        let inChannels = unet.config.inChannels, latent = stage.latentChannels
        unetProbe = try Self.probe(sides: [max(16, m), max(32, 2 * m)]) { side, ws in
            if let cross = unet.config.crossAttention {
                // Stable Diffusion: the guided batch of 2 with a 77-token context.
                // (the x4 upscaler's class labels: its noise level for both rows)
                _ = try unet(try Tensor.zeros([2, inChannels, side, side]), timesteps: [500, 500],
                             context: try Tensor.zeros([2, 77, cross.contextDim]), classLabels: unet.config.classEmbeddings.map { _ in [0, 0] },
                             workspace: ws)
            } else {
                _ = try unet(try Tensor.zeros([1, inChannels, side, side]), timesteps: [500], workspace: ws)
            }
        }
        decoderProbe = try Self.probe(sides: [8, 16]) { side, ws in
            _ = try stage.decode(try Tensor.zeros([1, latent, side, side]), workspace: ws)
        }
        let factor = f
        encoderProbe = try Self.probe(sides: [8, 16]) { side, ws in
            _ = try stage.encode(try Tensor.zeros([1, stage.imageChannels, side * factor, side * factor]), workspace: ws)
        }
    }

    /// Pool bytes per latent position from the growth between two probe sizes (so constant-size
    /// buffers do not inflate it), and the scratch high-water mark raised to the kernels' caps.
    static func probe(sides: [Int], _ run: (Int, Workspace) throws -> Void) throws -> (Double, Int) {
        var pools: [Int] = [], scratch = 0
        for side in sides {
            let ws = Workspace()
            try run(side, ws)
            pools.append(ws.poolBytes)
            scratch = max(scratch, ws.scratchBytes)
        }
        let (a, b) = (Double(sides[0] * sides[0]), Double(sides[1] * sides[1]))
        let perPosition = max(Double(pools[1]) / b, Double(pools[1] - pools[0]) / (b - a))
        // im2col bands are capped at 16 MiB and attention score blocks at 4 Mi floats, per thread.
        let caps = Parallel.threads * (32 << 20)
        return (perPosition, max(scratch, caps))
    }

    /// Peak memory of one image whose latent is h × w under `tiling`.
    public func estimate(latentHeight h: Int, latentWidth w: Int, tiling: TilingSettings, encodes: Bool) -> Estimate {
        func area(_ tile: Int, _ multiple: Int) -> Double {
            let side = max(multiple, tile / multiple * multiple)
            return Double(min(side, h) * min(side, w))
        }
        let unet = Int(unetProbe.perPosition * area(tiling.unetTile, unetMultiple)) + unetProbe.scratch
        // The first stage's own grids: the conv autoencoder widens small tiles to cover its reach.
        let decoderTile = firstStage.decoderGrid(height: h, width: w, tiling: tiling).tile
        let encoderTile = firstStage.encoderGrid(height: h, width: w, tiling: tiling).tile
        // Exact GroupNorm statistics run a GroupNorm first stage once untiled (`TileNormalisation.exact`);
        // the estimated ones once on at most a tile.
        let untiled = tiling.normalisation == .exact && firstStage.reach == nil
        let decoderArea = untiled ? Double(h * w) : area(decoderTile, 1), encoderArea = untiled ? Double(h * w) : area(encoderTile, 1)
        let decoder = Int(decoderProbe.perPosition * decoderArea) + decoderProbe.scratch
        let encoder = encodes ? Int(encoderProbe.perPosition * encoderArea) + encoderProbe.scratch : 0
        return Estimate(baseline: Self.baselineBytes, weights: weightBytes, images: Self.imageBytesPerPixel(task) * h * w * f * f,
                        unet: unet, decoder: decoder, encoder: encoder)
    }

    /// `preferred`, or smaller tiles until the estimate fits `budget`. Throws when even the
    /// smallest tiles (U-Net 64, VQ 32 latent pixels) do not fit.
    public func plan(latentHeight h: Int, latentWidth w: Int, preferred: TilingSettings, budget: Int,
                     encodes: Bool, otherBytes: Int = 0) throws -> (tiling: TilingSettings, estimate: Estimate) {
        var tiling = preferred
        while true {
            var e = estimate(latentHeight: h, latentWidth: w, tiling: tiling, encodes: encodes)
            e.other = otherBytes
            if e.total <= budget { return (tiling, e) }
            let unetSide = min(tiling.unetTile, max(h, w)), vqSide = min(tiling.vqTile, max(h, w))
            let canShrinkUNet = unetSide > 64, canShrinkVQ = vqSide > 32
            if e.unet >= max(e.decoder, e.encoder), canShrinkUNet {
                tiling.unetTile = max(64, unetSide * 3 / 4 / unetMultiple * unetMultiple)
                tiling.unetOverlap = min(tiling.unetOverlap, tiling.unetTile / 3 / unetMultiple * unetMultiple)
            } else if canShrinkVQ {
                tiling.vqTile = max(32, vqSide * 3 / 4)
                tiling.vqOverlap = min(tiling.vqOverlap, tiling.vqTile / 4)
            } else if canShrinkUNet {
                tiling.unetTile = max(64, unetSide * 3 / 4 / unetMultiple * unetMultiple)
                tiling.unetOverlap = min(tiling.unetOverlap, tiling.unetTile / 3 / unetMultiple * unetMultiple)
            } else {
                throw PipelineError.memory(needed: e.total, budget: budget, estimate: e)
            }
        }
    }
}
