import ArgumentParser
import LDMEditing
import LDMPipelines

/// Large images: tile sizes and the memory ceiling.
struct TilingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "U-Net tile side in latent pixels (input pixels for upscale, image pixels / 4 for inpaint); default 192.",
        discussion: "Latents up to this size run untiled, as the references do. Larger ones run on overlapping tiles blended at every sampling step.",
        valueName: "px"))
    var tile: Int?

    @Option(name: .customLong("tile-overlap"), help: ArgumentHelp("Overlap of neighbouring U-Net tiles in latent pixels (default 64).", valueName: "px"))
    var tileOverlap: Int?

    @Option(name: .customLong("tile-norm"), help: ArgumentHelp(
        "GroupNorm statistics of the autoencoder on its tiles (large images): per-tile (default), estimated or exact.",
        discussion: "per-tile: each tile its own; estimated: frozen statistics from a copy of the input shrunk to one tile (one tile's extra work); exact: from one untiled run (memory as untiled). The conv autoencoder has no GroupNorm and tiles exactly either way.",
        valueName: "mode"))
    var tileNorm: TileNormalisation?

    @Option(name: .customLong("max-memory"), help: ArgumentHelp(
        "Memory ceiling, e.g. 6G or 800M (default: 75% of the memory available at start).",
        discussion: "Tiles are made smaller until the estimated peak fits; if even the smallest do not, the image fails before any work.",
        valueName: "size"))
    var maxMemory: String?

    func validate() throws {
        if let maxMemory, MemorySize.parse(maxMemory) == nil {
            throw ValidationError("--max-memory \(maxMemory): use a size such as 6G, 6GB, 512M or a number of bytes.")
        }
        do { _ = try request() } catch { throw ValidationError(UserMessage.describe(error)) }
    }

    /// The tiling part of the request.
    func request() throws(RequestError) -> TilingRequest {
        try TilingRequest(unetTile: tile, unetOverlap: tileOverlap, normalisation: tileNorm, maxMemory: maxMemory.flatMap(MemorySize.parse))
    }
}
