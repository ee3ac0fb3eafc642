import LDMModels
import LDMTensor

/// The editing pipelines' denoiser: ε from the latent U-Net on [x_t, conditioning], latent first
/// (CompVis ddpm.py `DiffusionWrapper` with conditioning_key "concat"; diffusers
/// pipeline_latent_diffusion_superresolution.py `unet(cat([latents, image]), t)`). A latent larger
/// than the U-Net tile runs on the overlapping tiles of `grid`, blended at every evaluation
/// (`LatentDiffusionModel.predictNoise(_:conditioning:timestep:grid:weights:workspace:)`), so no
/// sampler knows about tiles.
public struct ModelDenoiser: Denoiser {
    public let model: LatentDiffusionModel
    /// [1, c, h, w], concatenated after x at every evaluation.
    public let conditioning: Tensor
    /// The U-Net tiles over the h × w latent, and each tile's blend weights.
    public let grid: TileGrid
    let tileWeights: [[Float]]

    /// - conditioning: [1, c, h, w]; `tiling`'s U-Net tile and overlap split an h × w latent (one
    ///   tile, untiled, when it fits), tile sides kept multiples of the U-Net's downsampling.
    public init(model: LatentDiffusionModel, conditioning: Tensor, tiling: TilingSettings) {
        self.model = model
        self.conditioning = conditioning
        let multiple = model.unet.config.downsamplingFactor
        let grid = TileGrid(height: conditioning.shape[2], width: conditioning.shape[3], tile: tiling.unetTile,
                            overlap: tiling.unetOverlap, multiple: multiple)
        self.grid = grid
        tileWeights = grid.isSingleTile ? [] : grid.tiles.map { grid.weights(for: $0) }
    }

    /// - x: [1, z, h, w] → ε: [1, z, h, w]
    public func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        try model.predictNoise(x, conditioning: conditioning, timestep: timestep, grid: grid, weights: tileWeights, workspace: workspace)
    }
}
