import LDMModels
import LDMTensor

/// Inpainting conditioning (CompVis `scripts/inpaint.py`, docs/ldm-spec.md §3): the first-stage encoding of
/// the masked image (z channels: 3 for VQ-f4, not quantised; 4 for the conv autoencoder, scaled as
/// its diffusion latents are) and the mask resized to the latent (1 channel), both in the
/// reference's [−1, 1] convention — the mask fed to the U-Net is −1 (keep) / +1 (repaint).
/// - image: [1, 3, H, W] in [−1, 1]; mask: [1, 1, H, W], ≥ 0.5 = repaint → [1, z + 1, H/f, W/f]
public struct InpaintingConditioning: ConcatConditioning {
    public let task = ModelTask.inpainting
    public let channels: Int
    public let latentSize: (height: Int, width: Int)
    let image: Tensor
    let mask: Tensor
    /// Encode on these latent tiles (large images); nil encodes at once.
    var encoderGrid: TileGrid?
    /// The encoder's GroupNorm statistics on those tiles.
    var encoderNormalisation = TileNormalisation.perTile

    public init(image: Tensor, mask: Tensor, firstStage: FirstStageConfig) throws {
        let f = firstStage.downsamplingFactor
        guard image.rank == 4, image.shape[0] == 1, image.shape[1] == 3, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw PipelineError.shapeMismatch(argument: "image", expected: "[1, 3, H, W], H and W multiples of \(f)", actual: image.shape)
        }
        guard mask.shape == [1, 1, image.shape[2], image.shape[3]] else {
            throw PipelineError.shapeMismatch(argument: "mask", expected: "[1, 1, \(image.shape[2]), \(image.shape[3])]", actual: mask.shape)
        }
        self.image = image
        self.mask = mask
        channels = firstStage.latentChannels + 1
        latentSize = (image.shape[2] / f, image.shape[3] / f)
    }

    public func conditioning(firstStage: FirstStage, workspace ws: Workspace) throws -> Tensor {
        let (h, w) = (image.shape[2], image.shape[3])
        let plane = h * w
        // make_batch: binarise, masked = (1 − mask)·image, in [0, 1] then ·2 − 1 (so the hole is −1).
        let masked = try ws.tensor(image.shape)
        let (img, m, out) = (image.data, mask.data, masked.data)
        for c in 0..<3 {
            for p in 0..<plane {
                let keep: Float = m[p] >= 0.5 ? 0 : 1
                let unit = (img[c * plane + p] + 1) / 2
                out[c * plane + p] = keep * unit * 2 - 1
            }
        }
        let encoded = try encoderGrid.map { try firstStage.encode(masked, grid: $0, normalisation: encoderNormalisation, workspace: ws) }
            ?? firstStage.encode(masked, workspace: ws)
        let (lh, lw) = latentSize
        let result = try ws.tensor([1, channels, lh, lw])
        try Concat.channels([encoded, try nearestMask(lh, lw, ws)], into: result)
        return result
    }

    /// `F.interpolate(mask, size=(h, w))` (mode "nearest": source index ⌊i·H/h⌋) of the ±1 mask.
    private func nearestMask(_ lh: Int, _ lw: Int, _ ws: Workspace) throws -> Tensor {
        let (h, w) = (image.shape[2], image.shape[3])
        let small = try ws.tensor([1, 1, lh, lw])
        for y in 0..<lh {
            for x in 0..<lw {
                let value = mask.data[(y * h / lh) * w + (x * w / lw)]
                small.data[y * lw + x] = value >= 0.5 ? 1 : -1
            }
        }
        return small
    }
}
