import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// Opt-in (issue 18, point 1, on trained weights): the trained default autoencoder's tiled decode and encode
/// against the untiled ones, at 1024² and 2048² outputs, for every `TileNormalisation`, with time and the
/// process's peak RSS per run (VmHWM, reset through /proc/self/clear_refs before each).
///     LDM_EDIT_TRAINED_AE=~/.cache/ldm-edit-train/ae/autoencoder LDM_EDIT_TILING_PHOTO=/tmp/ldm-pool/eval/kodak_I03.png \
///         bash Scripts/test.sh --filter TrainedFirstStageTilingTests
/// `LDM_EDIT_TILING_SIDES=1024` measures one size; `LDM_EDIT_TILING_OUT=DIR` also writes the untiled and the per-tile
/// decodes as DIR/untiled-SIDE.png and DIR/tiled-SIDE.png (Scripts/eval/make_seam_figure.py crops them at a seam).
/// The autoencoder folder (Scripts/train: config.json + model.safetensors) is put beside the tiny inpainting
/// fixture's U-Net, which only makes the folder a loadable model; only the first stage runs.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_TRAINED_AE"] != nil))
struct TrainedFirstStageTilingTests {
    static let environment = ProcessInfo.processInfo.environment

    static func model() throws -> LatentDiffusionModel {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LDMModelsTests/Fixtures/models/conv_inp_folder").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trained-ae-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: fixture, toPath: folder)
        try FileManager.default.removeItem(atPath: folder + "/autoencoder")
        try FileManager.default.copyItem(atPath: try #require(environment["LDM_EDIT_TRAINED_AE"]), toPath: folder + "/autoencoder")
        return try LatentDiffusionModel(weights: try ModelWeights.open(folder))
    }

    /// Peak RSS (MiB) of `body`: VmHWM after resetting it (Linux ≥ 4.0: writing 5 to clear_refs).
    static func measured<T>(_ body: () throws -> T) rethrows -> (T, seconds: Double, peakMiB: Int) {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let start = Date()
        let value = try body()
        let seconds = Date().timeIntervalSince(start)
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        return (value, seconds, hwm / 1024)
    }

    @Test func tiledMatchesUntiledOnTrainedWeights() throws {
        let model = try Self.model()
        let stage = model.firstStage
        let photo = PlanarImage(try ImageFile.read(try #require(Self.environment["LDM_EDIT_TILING_PHOTO"])))
        let ws = Workspace()
        let sides = (Self.environment["LDM_EDIT_TILING_SIDES"] ?? "1024,2048").split(separator: ",").compactMap { Int($0) }
        for side in sides {
            let image = try ImageTensor.tensor(Resampler.resize(photo, width: side, height: side, filter: .lanczos))
            let f = stage.downsamplingFactor
            let (latent, encodeSeconds, encodePeak) = try Self.measured { try stage.encode(image, workspace: ws).copy() }
            ws.releaseAll()
            let (whole, decodeSeconds, decodePeak) = try Self.measured { try stage.decode(latent, workspace: ws).copy() }
            ws.releaseAll()
            print("trained AE \(side)²: untiled encode \(String(format: "%.1f", encodeSeconds)) s, peak \(encodePeak) MiB; "
                  + "decode \(String(format: "%.1f", decodeSeconds)) s, peak \(decodePeak) MiB")
            for mode in TileNormalisation.allCases {
                var tiling = TilingSettings.standard
                tiling.normalisation = mode
                let decoderGrid = stage.decoderGrid(height: side / f, width: side / f, tiling: tiling)
                let encoderGrid = stage.encoderGrid(height: side / f, width: side / f, tiling: tiling)
                let (decoded, dt, dp) = try Self.measured { try stage.decode(latent, grid: decoderGrid, normalisation: mode, workspace: ws).copy() }
                ws.releaseAll()
                let (encoded, et, ep) = try Self.measured { try stage.encode(image, grid: encoderGrid, normalisation: mode, workspace: ws).copy() }
                ws.releaseAll()
                let decodePSNR = TilingTests.psnr(whole, decoded), encodePSNR = TilingTests.psnr(latent, encoded, range: 2 * 4)
                print("trained AE \(side)² \(mode.rawValue): decode \(decoderGrid.tiles.count) tiles \(decoderGrid.tile)/\(decoderGrid.overlap) "
                      + "PSNR \(String(format: "%.1f", decodePSNR)) dB, \(String(format: "%.1f", dt)) s, peak \(dp) MiB; encode \(encoderGrid.tiles.count) tiles "
                      + "PSNR \(String(format: "%.1f", encodePSNR)) dB (latent range 8), \(String(format: "%.1f", et)) s, peak \(ep) MiB")
                #expect(!decoderGrid.isSingleTile && !encoderGrid.isSingleTile)
                if mode == .perTile, let out = Self.environment["LDM_EDIT_TILING_OUT"] {
                    for (name, x) in [("untiled", whole), ("tiled", decoded)] {
                        let planar = ImageTensor.image(x, width: side, height: side)
                        let bytes = planar.rgb.indices.map { i -> UInt8 in
                            let (c, p) = (i % 3, i / 3)
                            return UInt8((min(max(planar.rgb[c * side * side + p], 0), 1) * 255).rounded())
                        }
                        try ImageFile.write(try RasterImage(width: side, height: side, channels: 3, samples: .uint8(bytes)), to: "\(out)/\(name)-\(side).png")
                    }
                }
                #expect(decodePSNR >= 40 && encodePSNR >= 40, "\(side) \(mode)")
            }
        }
    }
}
