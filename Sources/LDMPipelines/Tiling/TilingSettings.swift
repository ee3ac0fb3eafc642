/// How a pipeline splits large latents: U-Net tiles blended at every step, VQ decoder (and
/// encoder) tiles blended once. Sides and overlaps are in latent pixels (for 4x super-resolution
/// that is input pixels; for inpainting, image pixels / 4).
///
/// The plan decides the result: the same seed and tile plan give the same bytes for any thread
/// count, and a latent no larger than the tiles runs untiled, exactly as the references do. The
/// defaults do not depend on the machine (memory only shrinks them when a memory ceiling demands it,
/// which is reported), so a default run is reproducible everywhere.
public struct TilingSettings: Sendable, Equatable, CustomStringConvertible {
    public var unetTile: Int
    public var unetOverlap: Int
    public var vqTile: Int
    public var vqOverlap: Int
    /// GroupNorm statistics of the first stage on its tiles (decoder and encoder).
    public var normalisation: TileNormalisation

    public init(unetTile: Int, unetOverlap: Int, vqTile: Int, vqOverlap: Int, normalisation: TileNormalisation = .perTile) {
        self.unetTile = unetTile
        self.unetOverlap = unetOverlap
        self.vqTile = vqTile
        self.vqOverlap = vqOverlap
        self.normalisation = normalisation
    }

    /// U-Net: 128-latent tiles at half overlap are the CompVis notebook's `split_input` choice
    /// (ks 128, stride 64); we use 192/64, one tile for latents up to 192² (768 px SR outputs) and
    /// a third fewer U-Net calls than 128/64 above that. VQ: 128-latent tiles (512² pixels out)
    /// with a 32-latent overlap, wider than the f4 decoder's ~18-latent convolutional reach, so
    /// zero padding at tile edges stays out of the blended result (measured in docs/performance.md).
    public static let standard = TilingSettings(unetTile: 192, unetOverlap: 64, vqTile: 128, vqOverlap: 32)

    /// Never tile (the references' behaviour; memory grows with the image).
    public static let none = TilingSettings(unetTile: .max / 4, unetOverlap: 0, vqTile: .max / 4, vqOverlap: 0)

    public var description: String {
        func side(_ t: Int, _ o: Int) -> String { t >= .max / 4 ? "none" : "\(t)/\(o)" }
        // The per-tile statistics leave the description as it was before the choice existed.
        let norm = normalisation == .perTile ? "" : ", norm \(normalisation.rawValue)"
        return "unet \(side(unetTile, unetOverlap)), vq \(side(vqTile, vqOverlap))" + norm
    }
}
