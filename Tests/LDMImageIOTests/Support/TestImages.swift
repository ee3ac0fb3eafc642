import Foundation
@testable import LDMImageIO

/// Deterministic test rasters and scratch folders.
enum TestImages {
    /// A raster whose samples come from a fixed linear congruential sequence (same on every run).
    static func random(width: Int, height: Int, channels: Int, bitDepth: Int, seed: UInt64 = 1) -> RasterImage {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let n = width * height * channels
        let samples: RasterImage.Samples = bitDepth == 8
            ? .uint8((0..<n).map { _ in UInt8(truncatingIfNeeded: next()) })
            : .uint16((0..<n).map { _ in UInt16(truncatingIfNeeded: next()) })
        return RasterImage(unchecked: width, height: height, channels: channels, samples: samples)
    }

    /// A smooth colour gradient (JPEG-friendly): channel k at (x, y) varies slowly with x and y.
    static func gradient(width: Int, height: Int, channels: Int) -> RasterImage {
        var s = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for k in 0..<channels {
                    s[(y * width + x) * channels + k] = UInt8((x * 255 / max(1, width - 1) + y * 97 / max(1, height) + k * 40) % 256)
                }
            }
        }
        return RasterImage(unchecked: width, height: height, channels: channels, samples: .uint8(s))
    }
}

/// A fresh temporary folder per test, removed when the value goes away.
final class ScratchFolder {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-edit-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Names in the folder (hidden files included), sorted.
    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func write(_ bytes: [UInt8], to name: String) -> String {
        let p = file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func bytes(_ name: String) -> [UInt8] { [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: file(name)))) ?? Data()) }
}
