import LDMPipelines

/// Something about an edit worth telling its user; the edit still runs.
public enum EditWarning: Sendable, Equatable, CustomStringConvertible {
    /// The mask looks wrong (empty, all white, mostly white, soft).
    case mask(MaskWarning)
    /// The requested tiles did not fit the memory ceiling (`budget` bytes): smaller ones ran, so
    /// the result differs from the requested plan's. `estimatedPeak` is nil where several model
    /// runs (inpainting windows) were planned.
    case tilesReduced(to: TilingSettings, budget: Int, estimatedPeak: Int?)
    /// The model is a Stable Diffusion text-to-image model: it inpaints by blending the known region back
    /// into the latent after every step, the lower-quality path (`InpaintingMethod.blended`).
    case blendedInpainting

    public var description: String {
        switch self {
        case .mask(let warning): warning.description
        case .tilesReduced(let tiling, let budget, let peak):
            "tiles reduced to \(tiling) to stay under \(budget >> 20) MiB"
                + (peak.map { " (estimated peak \($0 >> 20) MiB)" } ?? "") + "; the result differs from the default plan's"
        case .blendedInpainting:
            "a text-to-image model, not an inpainting one: the known region is blended back at every step, which gives "
                + "visibly weaker fills and seams than an inpainting checkpoint of the same family"
        }
    }
}
