import Foundation
import LDMPipelines

/// The requested tile plan and memory ceiling of a diffusion edit. The plan that runs for an image
/// is this one, or smaller tiles when the estimated peak memory would exceed the ceiling
/// (`TilePlanner`).
///
/// Encoded (provenance "tiling") as its description: "unet 192/64, vq 128/32", followed by
/// ", norm estimated" when the first stage's tiles do not use their own GroupNorm statistics and
/// ", max-memory 6G" when a ceiling was given. The default ceiling depends on the machine's free
/// memory, so only an explicit one is part of the request.
public struct TilingRequest: Sendable, Equatable, CustomStringConvertible {
    /// U-Net and first-stage tiles, in latent pixels.
    public let tiles: TilingSettings
    /// The memory ceiling in bytes; nil: 75 % of the memory available when the model was loaded.
    public let maxMemory: Int?

    /// Smallest U-Net tile side a request may ask for.
    public static let minimumTile = 16

    /// The standard plan with the U-Net tile (and overlap) changed. A tile smaller than three times
    /// the standard overlap gets a third of its side as overlap unless one is given.
    public init(unetTile: Int? = nil, unetOverlap: Int? = nil, normalisation: TileNormalisation? = nil,
                maxMemory: Int? = nil) throws(RequestError) {
        var tiles = TilingSettings.standard
        if let normalisation { tiles.normalisation = normalisation }
        if let unetTile {
            tiles.unetTile = unetTile
            tiles.unetOverlap = min(tiles.unetOverlap, unetTile / 3)
        }
        if let unetOverlap { tiles.unetOverlap = unetOverlap }
        try self.init(tiles: tiles, maxMemory: maxMemory)
    }

    public init(tiles: TilingSettings, maxMemory: Int? = nil) throws(RequestError) {
        guard tiles.unetTile >= Self.minimumTile else { throw .tile(tiles.unetTile) }
        guard tiles.unetOverlap >= 0, tiles.unetOverlap < tiles.unetTile else { throw .tileOverlap(overlap: tiles.unetOverlap, tile: tiles.unetTile) }
        guard tiles.vqTile >= Self.minimumTile else { throw .tile(tiles.vqTile) }
        guard tiles.vqOverlap >= 0, tiles.vqOverlap < tiles.vqTile else { throw .tileOverlap(overlap: tiles.vqOverlap, tile: tiles.vqTile) }
        if let maxMemory, maxMemory <= 0 { throw .maxMemory(maxMemory) }
        self.tiles = tiles
        self.maxMemory = maxMemory
    }

    /// The ceiling in bytes, given the memory available now (nil where unknown: 8 GiB is assumed).
    public func budget(availableMemory: Int?) -> Int {
        maxMemory ?? (availableMemory ?? (8 << 30)) / 4 * 3
    }

    public var description: String {
        tiles.description + (maxMemory.map { ", max-memory \(MemorySize.format($0))" } ?? "")
    }

    /// Reads `description`'s form back ("none" for an untiled side).
    public init(parsing text: String) throws(RequestError) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        func side(_ part: String?, _ name: String) throws(RequestError) -> (Int, Int) {
            guard let part, part.hasPrefix(name + " ") else { throw .unreadable(field: "tiling", value: text) }
            let value = part.dropFirst(name.count + 1)
            if value == "none" { return (TilingSettings.none.unetTile, 0) }
            let numbers = value.split(separator: "/").compactMap { Int($0) }
            guard numbers.count == 2 else { throw .unreadable(field: "tiling", value: text) }
            return (numbers[0], numbers[1])
        }
        let (unet, vq) = (try side(parts.first, "unet"), try side(parts.count > 1 ? parts[1] : nil, "vq"))
        var maxMemory: Int?
        var normalisation = TileNormalisation.perTile
        var rest = parts.dropFirst(2)
        if let part = rest.first, part.hasPrefix("norm ") {
            guard let value = TileNormalisation(rawValue: String(part.dropFirst(5))) else { throw .unreadable(field: "tiling", value: text) }
            normalisation = value
            rest = rest.dropFirst()
        }
        if let part = rest.first {
            guard rest.count == 1, part.hasPrefix("max-memory "), let bytes = MemorySize.parse(String(part.dropFirst(11))) else {
                throw .unreadable(field: "tiling", value: text)
            }
            maxMemory = bytes
        }
        try self.init(tiles: TilingSettings(unetTile: unet.0, unetOverlap: unet.1, vqTile: vq.0, vqOverlap: vq.1,
                                            normalisation: normalisation), maxMemory: maxMemory)
    }
}
