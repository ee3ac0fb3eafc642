import Foundation
import LDMModels
import LDMTensor

/// The Stable Diffusion inpainting U-Net as a denoiser: ε for x_t from the U-Net on [x_t, conditioning] (the
/// conditioning's channels concatenated after the latent's, per batch row) with the text `context` read by
/// cross-attention (diffusers pipeline_stable_diffusion_inpaint.py: `unet(cat([latent_model_input, mask,
/// masked_image_latents], dim=1), t, encoder_hidden_states=prompt_embeds)`). Inside `ClassifierFreeGuidance`
/// it is evaluated at batch 2 with the [negative; prompt] context; unguided at batch 1.
/// Without conditioning (a text-to-image U-Net, blended inpainting) the U-Net sees x alone. The x4 upscaler's U-Net also
/// takes its noise level as every row's class label (pipeline_stable_diffusion_upscale.py: `class_labels=noise_level`).
///
/// A latent larger than the U-Net tile runs on the overlapping tiles of `grid`, every batch row with the same
/// tiles and its own context, blended at every evaluation with the grid's weights (as `ModelDenoiser`; for a
/// text-conditioned model this is MultiDiffusion's scheme, Bar-Tal et al. 2023: each step's ε is the weighted
/// mean of the tiles' ε). A latent within one tile runs whole, exactly as diffusers does.
public struct TextConditionedDenoiser: Denoiser {
    public let unet: UNet
    /// [1, c, h, w], the same for every batch row; nil: none.
    public let conditioning: Tensor?
    /// [N, L, D]: one context per batch row.
    public let context: Tensor
    /// The class label of every row (the x4 upscaler's noise level), for a U-Net with a class embedding; else nil.
    public let classLabel: Int?
    /// The U-Net tiles over the h × w latent, and each tile's blend weights.
    public let grid: TileGrid
    let tileWeights: [[Float]]

    /// - latentHeight, latentWidth: the latent's size; `tiling`'s U-Net tile and overlap split it (one tile,
    ///   untiled, when it fits), tile sides kept multiples of the U-Net's downsampling.
    public init(unet: UNet, conditioning: Tensor?, context: Tensor, latentHeight h: Int, latentWidth w: Int, tiling: TilingSettings,
                classLabel: Int? = nil) {
        self.unet = unet
        self.classLabel = classLabel
        self.conditioning = conditioning
        self.context = context
        let grid = TileGrid(height: h, width: w, tile: tiling.unetTile, overlap: tiling.unetOverlap, multiple: unet.config.downsamplingFactor)
        self.grid = grid
        tileWeights = grid.isSingleTile ? [] : grid.tiles.map { grid.weights(for: $0) }
    }

    /// - x: [N, z, h, w] (N = the context's batch) → ε: [N, z, h, w]
    public func noise(_ x: Tensor, timestep: Float, workspace ws: Workspace) throws -> Tensor {
        guard !grid.isSingleTile else { return try whole(x, conditioning: conditioning, timestep: timestep, workspace: ws) }
        guard x.rank == 4, x.shape[2] == grid.height, x.shape[3] == grid.width else {
            throw TensorError.shapeMismatch(operation: "TextConditionedDenoiser", argument: "x",
                                            expected: "[\(context.shape[0]), z, \(grid.height), \(grid.width)]", actual: x.shape)
        }
        // The batch rows as channels of one image ([N, z, h, w] is row-major, so the same memory), so that every
        // row's window and blend reuse the single-image tile code.
        let (n, z) = (x.shape[0], x.shape[1])
        let rows = try x.reshaped([1, n * z, grid.height, grid.width])
        var blender = try TileBlender(channels: n * z, height: grid.height, width: grid.width)
        for (tile, weight) in zip(grid.tiles, tileWeights) {
            let window = try rows.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
                .reshaped([n, z, tile.height, tile.width])
            let c = try conditioning?.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
            let eps = try whole(window, conditioning: c, timestep: timestep, workspace: ws)
            blender.add(try eps.reshaped([1, n * z, tile.height, tile.width]), y: tile.y, x: tile.x, weights: weight)
        }
        return try blender.finish().reshaped(x.shape)
    }

    /// ε of the U-Net on the whole of x (and conditioning, [1, c, h, w] or nil). When every row of x holds the same
    /// bits (classifier-free guidance's [x; x]) the U-Net gets that image once, shared by the contexts: the same ε,
    /// bit for bit, with the layers before the first cross-attention run once (`UNet.callAsFunction`).
    /// - x: [N, z, h, w] → ε: [N, z, h, w]
    private func whole(_ x: Tensor, conditioning: Tensor?, timestep: Float, workspace ws: Workspace) throws -> Tensor {
        let n = context.shape[0]
        guard x.rank == 4, x.shape[0] == n, conditioning.map({ x.shape[2] == $0.shape[2] && x.shape[3] == $0.shape[3] }) ?? true else {
            throw TensorError.shapeMismatch(operation: "TextConditionedDenoiser", argument: "x",
                                            expected: "[\(n), z, \(conditioning.map { "\($0.shape[2]), \($0.shape[3])" } ?? "h, w")]", actual: x.shape)
        }
        let images = Self.rowsAreEqual(x) ? 1 : n
        let timesteps = [Float](repeating: timestep, count: images)
        guard let conditioning else {
            // Row 0 of x, the shared image: the same storage seen as one row.
            let first = images == n ? x : try Tensor(shape: [1] + x.shape.dropFirst(), storage: x.storage)
            return try unet(first, timesteps: timesteps, context: context, classLabels: labels(images), workspace: ws)
        }
        let c = conditioning.shape[1]
        let (z, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        let input = try ws.tensor([images, z + c, x.shape[2], x.shape[3]])
        for row in 0..<images {
            let out = input.data + row * (z + c) * plane
            out.update(from: x.data + row * z * plane, count: z * plane)
            (out + z * plane).update(from: conditioning.data, count: c * plane)
        }
        return try unet(input, timesteps: timesteps, context: context, classLabels: labels(images), workspace: ws)
    }

    /// Whether x has more than one row and all hold the same bits. - x: [N, …]
    static func rowsAreEqual(_ x: Tensor) -> Bool {
        let n = x.shape[0]
        guard n > 1 else { return false }
        let size = x.count / n * MemoryLayout<Float>.size
        return (1..<n).allSatisfy { memcmp(x.data, x.data + $0 * (x.count / n), size) == 0 }
    }

    private func labels(_ n: Int) -> [Int]? { classLabel.map { [Int](repeating: $0, count: n) } }
}
