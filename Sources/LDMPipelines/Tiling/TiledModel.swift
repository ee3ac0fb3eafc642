import LDMModels
import LDMTensor

extension LatentDiffusionModel {
    /// ε with the U-Net run on the overlapping tiles of `grid`, blended by the grid's weights (the
    /// LDM `split_input` scheme, applied at every sampling step so neighbouring tiles agree).
    /// - latent: [1, z, h, w], conditioning: [1, c, h, w] → [1, z, h, w]
    func predictNoise(_ latent: Tensor, conditioning: Tensor, timestep: Float, grid: TileGrid, weights: [[Float]],
                      workspace ws: Workspace) throws -> Tensor {
        if grid.isSingleTile { return try predictNoise(latent, conditioning: conditioning, timestep: timestep, workspace: ws) }
        var blender = try TileBlender(channels: latent.shape[1], height: latent.shape[2], width: latent.shape[3])
        for (tile, weight) in zip(grid.tiles, weights) {
            let l = try latent.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
            let c = try conditioning.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width)
            let eps = try predictNoise(l, conditioning: c, timestep: timestep, workspace: ws)
            blender.add(eps, y: tile.y, x: tile.x, weights: weight)
        }
        return blender.finish()
    }
}

extension VQAutoencoder {
    /// Decode on overlapping latent tiles, feathered together in pixel space (`TileGrid.weights`).
    /// With `sharedNormStatistics` every tile is decoded twice: once to record the image's
    /// GroupNorm statistics over the tiles' owned regions, once normalising with them. Off by
    /// default: on the random-weight models we can test, it did not beat per-tile statistics
    /// (docs/performance.md, "Tiling").
    /// - latent: [1, embedDim, h, w] → image [1, 3, h·f, w·f]
    func decode(_ latent: Tensor, grid: TileGrid, sharedNormStatistics: Bool = false, workspace ws: Workspace) throws -> Tensor {
        if grid.isSingleTile { return try decode(latent, workspace: ws) }
        let f = config.downsamplingFactor
        return try tiled(grid, sharedNormStatistics: sharedNormStatistics, workspace: ws,
                         output: (config.outChannels, grid.height * f, grid.width * f), outputScale: f) { tile in
            try decode(try latent.window(y: tile.y, x: tile.x, height: tile.height, width: tile.width), workspace: ws)
        }
    }

    /// Encode on overlapping image tiles (the grid is in latent pixels), blended in latent space
    /// (`sharedNormStatistics` as in `decode`).
    /// - image: [1, 3, H, W], multiples of f → latent [1, embedDim, H/f, W/f]
    func encode(_ image: Tensor, grid: TileGrid, sharedNormStatistics: Bool = false, workspace ws: Workspace) throws -> Tensor {
        if grid.isSingleTile { return try encode(image, workspace: ws) }
        let f = config.downsamplingFactor
        return try tiled(grid, sharedNormStatistics: sharedNormStatistics, workspace: ws,
                         output: (config.embedDim, grid.height, grid.width), outputScale: 1) { tile in
            try encode(try image.window(y: tile.y * f, x: tile.x * f, height: tile.height * f, width: tile.width * f), workspace: ws)
        }
    }

    private func tiled(_ grid: TileGrid, sharedNormStatistics: Bool, workspace ws: Workspace, output: (Int, Int, Int),
                       outputScale: Int, run: (TileGrid.Tile) throws -> Tensor) throws -> Tensor {
        defer { ws.normStatistics = nil }
        if sharedNormStatistics {
            let statistics = GroupNormStatistics()
            ws.normStatistics = statistics
            for tile in grid.tiles {
                statistics.beginTile(grid.ownedRegion(of: tile))
                _ = try run(tile)
            }
            statistics.startReplay()
        }
        var blender = try TileBlender(channels: output.0, height: output.1, width: output.2)
        for tile in grid.tiles {
            ws.normStatistics?.beginTile(nil)
            let result = try run(tile)
            blender.add(result, y: tile.y * outputScale, x: tile.x * outputScale, weights: grid.weights(for: tile, scale: outputScale))
        }
        return blender.finish()
    }
}
