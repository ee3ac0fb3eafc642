import Foundation
import ArgumentParser
import LDMParallel
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

    @Option(name: .customLong("max-memory"), help: ArgumentHelp(
        "Memory ceiling, e.g. 6G or 800M (default: 75% of the memory available at start).",
        discussion: "Tiles are made smaller until the estimated peak fits; if even the smallest do not, the image fails before any work.",
        valueName: "size"))
    var maxMemory: String?

    func validate() throws {
        if let tile, tile < 16 { throw ValidationError("--tile must be at least 16, got \(tile).") }
        if let tileOverlap, tileOverlap < 0 || tileOverlap >= (tile ?? TilingSettings.standard.unetTile) {
            throw ValidationError("--tile-overlap must be 0 or more and smaller than the tile, got \(tileOverlap).")
        }
        if let maxMemory, Self.parseSize(maxMemory) == nil {
            throw ValidationError("--max-memory \(maxMemory): use a size such as 6G, 6GB, 512M or a number of bytes.")
        }
    }

    /// The requested plan (before the memory ceiling).
    var requested: TilingSettings {
        var t = TilingSettings.standard
        if let tile {
            t.unetTile = tile
            t.unetOverlap = min(t.unetOverlap, tile / 3)
        }
        if let tileOverlap { t.unetOverlap = tileOverlap }
        return t
    }

    /// The ceiling in bytes.
    var budget: Int {
        if let maxMemory, let bytes = Self.parseSize(maxMemory) { return bytes }
        return (System.availableMemoryBytes ?? (8 << 30)) / 4 * 3
    }

    /// What enters the resume key: the requested plan and an explicit ceiling (the default ceiling
    /// depends on the machine's free memory, so it stays out).
    var keyDescription: String {
        requested.description + (maxMemory.map { ", max-memory \($0)" } ?? "")
    }

    /// "6G", "6GB", "6GiB", "512M", "1.5G", "123456" → bytes (binary units).
    static func parseSize(_ text: String) -> Int? {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count { number.removeLast(suffix.count) }
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var scale = 1.0
        if let last = number.last, let unit = units[last] {
            scale = unit
            number.removeLast()
        }
        guard let value = Double(number), value > 0, value * scale < 9e18 else { return nil }
        return Int(value * scale)
    }
}
