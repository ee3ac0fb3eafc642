import LDMPipelines

/// Something about an edit worth telling its user; the edit still runs.
public enum EditWarning: Sendable, Equatable, CustomStringConvertible {
    /// The mask looks wrong (empty, all white, mostly white, soft).
    case mask(MaskWarning)
    /// The requested tiles did not fit the memory ceiling (`budget` bytes): smaller ones ran, so
    /// the result differs from the requested plan's. `estimatedPeak` is nil where several model
    /// runs (inpainting windows) were planned.
    case tilesReduced(to: TilingSettings, budget: Int, estimatedPeak: Int?)

    public var description: String {
        switch self {
        case .mask(let warning): warning.description
        case .tilesReduced(let tiling, let budget, let peak):
            "tiles reduced to \(tiling) to stay under \(budget >> 20) MiB"
                + (peak.map { " (estimated peak \($0 >> 20) MiB)" } ?? "") + "; the result differs from the default plan's"
        }
    }
}
