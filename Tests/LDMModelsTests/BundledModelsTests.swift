import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// The bundled default models (Models/, docs/models.md "What ships") keep one first stage: both files carry the same
/// encoder and decoder bit for bit (the paper's shared autoencoder, the one whose 28 dB issue 16 measures), and the SR
/// file adds only a decoder adapter for its sampler's latents. Skipped where Models/ is absent (a checkout without it).
@Suite struct BundledModelsTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Models").standardized.path
    static let present = ["sr", "inpaint"].allSatisfy { FileManager.default.fileExists(atPath: models + "/ldm-edit-\($0).safetensors") }

    @Test(.enabled(if: present))
    func bothFilesCarryTheSameFirstStageAndOnlySRAddsAnAdapter() throws {
        let sr = try ModelWeights.open(Self.models + "/ldm-edit-sr.safetensors")
        let inpaint = try ModelWeights.open(Self.models + "/ldm-edit-inpaint.safetensors")
        let (srConfig, inpaintConfig) = (try #require(sr.firstStage.conv), try #require(inpaint.firstStage.conv))
        #expect(srConfig.decoderAdapterRank != nil && inpaintConfig.decoderAdapterRank == nil)
        var shared = srConfig
        shared.decoderAdapterRank = nil
        #expect(shared == inpaintConfig, "one first-stage architecture and scaling factor")
        let firstStage = ConvAutoencoderLayout.parameters(inpaintConfig)
        #expect(firstStage.count == 48)
        for spec in firstStage {
            #expect(try sr.tensor(spec.name).values == (try inpaint.tensor(spec.name).values), "\(spec.name)")
        }
        // The adapter changes what the SR pipeline decodes, not what the first stage reconstructs.
        let ae = try ConvAutoencoder(sr, config: srConfig)
        let z = try Tensor(shape: [1, 4, 6, 6], values: (0..<144).map { Float(($0 * 37) % 29) / 14 - 1 })
        let ws = Workspace()
        let adapted = try ae.decode(z, workspace: ws).copy(), plain = try ae.reconstruct(z, workspace: ws)
        #expect(adapted.values != plain.values)
        #expect(plain.values == (try ConvAutoencoder(inpaint, config: inpaintConfig).decode(z, workspace: ws).values))
    }
}
