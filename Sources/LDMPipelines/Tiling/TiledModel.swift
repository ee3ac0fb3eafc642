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

extension FirstStage {
    /// The tiles the decoder runs on for an h × w latent: `tiling`'s VQ tile and overlap, widened for a
    /// first stage whose reach is bounded (the conv autoencoder) to an overlap of at least twice its
    /// reach and a tile of at least twice that overlap, so that stitching the tiles at the middle of
    /// their overlaps gives exactly the whole-image result (see `decode(_:grid:…)`).
    public func decoderGrid(height h: Int, width w: Int, tiling: TilingSettings) -> TileGrid {
        grid(height: h, width: w, tiling: tiling, reach: reach?.decoder)
    }

    /// The encoder's tiles (in latent pixels) for an image of h·f × w·f, as `decoderGrid`.
    public func encoderGrid(height h: Int, width w: Int, tiling: TilingSettings) -> TileGrid {
        grid(height: h, width: w, tiling: tiling, reach: reach?.encoder)
    }

    private func grid(height h: Int, width w: Int, tiling: TilingSettings, reach: Int?) -> TileGrid {
        guard let reach else { return TileGrid(height: h, width: w, tile: tiling.vqTile, overlap: tiling.vqOverlap) }
        let overlap = max(tiling.vqOverlap, 2 * reach)
        return TileGrid(height: h, width: w, tile: max(tiling.vqTile, 2 * overlap), overlap: overlap)
    }

    /// Decode on overlapping latent tiles. VQ/KL: feathered together in pixel space
    /// (`TileGrid.weights`), GroupNorm statistics per `normalisation`. Conv: each tile keeps only the
    /// part it owns (`TileGrid.ownedWeights`), which lies at least the decoder's reach inside the tile
    /// when the grid comes from `decoderGrid`, so the result is the whole-image decode up to float
    /// rounding.
    /// - latent: [1, latentChannels, h, w] → image [1, 3, h·f, w·f]
    func decode(_ latent: Tensor, grid: TileGrid, normalisation: TileNormalisation = .perTile, workspace ws: Workspace) throws -> Tensor {
        if grid.isSingleTile { return try decode(latent, workspace: ws) }
        let f = downsamplingFactor
        return try tiled(latent, grid: grid, inputScale: 1, normalisation: normalisation, workspace: ws,
                         output: (imageChannels, grid.height * f, grid.width * f), outputScale: f) { x in
            try decode(x, workspace: ws)
        }
    }

    /// Encode on overlapping image tiles (the grid is in latent pixels), blended in latent space
    /// (feathered or stitched, and `normalisation`, as in `decode`).
    /// - image: [1, 3, H, W], multiples of f → latent [1, latentChannels, H/f, W/f]
    func encode(_ image: Tensor, grid: TileGrid, normalisation: TileNormalisation = .perTile, workspace ws: Workspace) throws -> Tensor {
        if grid.isSingleTile { return try encode(image, workspace: ws) }
        let f = downsamplingFactor
        return try tiled(image, grid: grid, inputScale: f, normalisation: normalisation, workspace: ws,
                         output: (latentChannels, grid.height, grid.width), outputScale: 1) { x in
            try encode(x, workspace: ws)
        }
    }

    /// Runs `network` on every tile's window of `input` (grid units × `inputScale` pixels) and blends
    /// the results. With estimated or exact statistics, `network` first runs once on the statistics
    /// input recording every GroupNorm's statistics, which the tiles then replay.
    private func tiled(_ input: Tensor, grid: TileGrid, inputScale: Int, normalisation: TileNormalisation, workspace ws: Workspace,
                       output: (Int, Int, Int), outputScale: Int, network: (Tensor) throws -> Tensor) throws -> Tensor {
        defer { ws.normStatistics = nil }
        // The conv autoencoder has no GroupNorm: nothing to share.
        let stitched = reach != nil
        if !stitched, let source = try normalisation.statisticsInput(input, side: grid.tile, multiple: inputScale) {
            let statistics = GroupNormStatistics()
            ws.normStatistics = statistics
            statistics.beginTile(nil)
            _ = try network(source)
            statistics.startReplay()
            // The untiled run's buffers are image-sized; the tiles need far less.
            if normalisation == .exact { ws.releaseAll() }
        }
        var blender = try TileBlender(channels: output.0, height: output.1, width: output.2)
        for tile in grid.tiles {
            ws.normStatistics?.beginTile(nil)
            let window = try input.window(y: tile.y * inputScale, x: tile.x * inputScale, height: tile.height * inputScale,
                                          width: tile.width * inputScale)
            let result = try network(window)
            let weights = stitched ? grid.ownedWeights(for: tile, scale: outputScale) : grid.weights(for: tile, scale: outputScale)
            blender.add(result, y: tile.y * outputScale, x: tile.x * outputScale, weights: weights)
        }
        return blender.finish()
    }
}
