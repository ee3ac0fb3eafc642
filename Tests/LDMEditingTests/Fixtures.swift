import Foundation
import LDMImageIO
import Synchronization

/// The tiny runnable models of Tests/LDMModelsTests/Fixtures/models: super-resolution over a VQ-f2
/// (so "4x" is 2x for it), inpainting over the conv autoencoder (f4); U-Nets with one downsampling.
enum Fixture {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LDMModelsTests/Fixtures/models").path
    /// Super-resolution, diffusers folder.
    static let sr = models + "/sr_diffusers"
    /// Inpainting over the conv autoencoder (f4; Scripts/make_conv_autoencoder_fixtures.py).
    static let inpaint = models + "/conv_inp_folder"

    /// A width × height RGB image with varied 8-bit values.
    static func image(width: Int, height: Int, channels: Int = 3) throws -> RasterImage {
        let samples = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: ($0 * 37 + $0 / 7) % 251) }
        return try RasterImage(width: width, height: height, channels: channels, samples: .uint8(samples))
    }

    /// A gray mask, white where `white(x, y)`.
    static func mask(width: Int, height: Int, white: (Int, Int) -> Bool) throws -> RasterImage {
        var samples: [UInt8] = []
        for y in 0..<height { for x in 0..<width { samples.append(white(x, y) ? 255 : 0) } }
        return try RasterImage(width: width, height: height, channels: 1, samples: .uint8(samples))
    }

    /// A fresh scratch folder under the temporary directory.
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-editing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Collects what the editor's @Sendable callbacks report.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}
