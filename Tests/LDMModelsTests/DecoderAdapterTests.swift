import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// The conv autoencoder's decoder adapter (`ConvAutoencoderLayout.Adapter`, `AdaptedWeights`): the file keeps the
/// shared decoder, and the decoder that decodes the sampler's latents adds W + up · down, b + bias per convolution.
/// Fixtures by `Scripts/fixtures/make_conv_autoencoder_fixtures.py --adapter`: Fixtures/models/conv_sr_adapter_folder
/// (conv_sr_folder plus a seeded rank-3 adapter) and Fixtures/parity/conv_autoencoder_adapter.safetensors (PyTorch's
/// decode of the trace's latent with the adapter merged by Scripts/train/experiments/decoder_adapter.py `merged`,
/// every module's output, and the plain decode). Tolerance: ConvAutoencoderParityTests' (the merge adds one rank-3
/// product per weight, in float32 on both sides: ulps, far below the bound; a transposed or missing factor moves the
/// output by ~0.4 of its range).
@Suite struct DecoderAdapterTests {
    static let folder = Fixture.path("models/conv_sr_adapter_folder")
    let dir: String = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-adapter-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    static func model() throws -> (ModelWeights, ConvAutoencoder) {
        let weights = try ModelWeights.open(folder)
        return (weights, try ConvAutoencoder(weights, config: try #require(weights.firstStage.conv)))
    }

    @Test func adaptedDecodeMatchesPyTorchModuleByModule() throws {
        let (weights, ae) = try Self.model()
        #expect(weights.firstStage.conv?.decoderAdapterRank == 3 && ae.hasDecoderAdapter)
        let trace = try ConvFixture.trace(Fixture.path("parity/conv_autoencoder_adapter.safetensors"))
        var seen: [String: Tensor] = [:]
        let latent = try trace.load("ae.latent")
        let image = try ae.decode(latent, workspace: Workspace()) { seen[$0] = try? $1.copy() }
        try ConvAutoencoderParityTests.check("adapted decode", image, trace, "ae.decoded")
        try ConvAutoencoderParityTests.checkModules("decoder", seen: seen, trace, expectedCount: 9)
        // The shared decoder is untouched: reconstruct is the plain decode, and differs from the adapted one.
        let plain = try ae.reconstruct(latent, workspace: Workspace())
        try ConvAutoencoderParityTests.check("reconstruct", plain, trace, "ae.reconstructed")
        #expect(Comparison(plain.values, image.values).maxAbs > 0.1)
    }

    /// The pipelines decode through `FirstStage`, which must take the adapted decoder.
    @Test func firstStageDecodesWithTheAdapter() throws {
        let (weights, _) = try Self.model()
        let stage = try FirstStage(weights, config: weights.firstStage)
        let trace = try ConvFixture.trace(Fixture.path("parity/conv_autoencoder_adapter.safetensors"))
        let latent = try trace.load("ae.latent")
        try Elementwise.scale(latent, by: Float(try #require(weights.firstStage.conv).scalingFactor), into: latent)
        try ConvAutoencoderParityTests.check("first stage decode", try stage.decode(latent, workspace: Workspace()), trace, "ae.decoded")
    }

    @Test func adaptedDecodeIsBitwiseIdenticalForOneAndTwoThreads() throws {
        let latent = try ConvFixture.trace(Fixture.path("parity/conv_autoencoder_adapter.safetensors")).load("ae.latent")
        let runs = try [1, 2].map { threads in
            try withObservedThreads(threads) { try Self.model().1.decode(latent, workspace: Workspace()).values }.0
        }
        #expect(runs[0] == runs[1])
    }

    /// The default first stage with a rank-32 adapter: one entry per decoder convolution, the rank capped at
    /// min(O, C·k·k), and the count decoder_adapter.py printed for the same rank (229,068 parameters).
    @Test func layoutListsOneAdapterPerDecoderConvolution() {
        let config = ConvAutoencoderConfig(decoderAdapterRank: 32)
        let layout = ConvAutoencoderLayout(config)
        #expect(layout.decoderAdapter.count == 14)
        #expect(layout.decoderAdapter.map(\.target) == ConvAutoencoderLayout.ordered(layout.decoder))
        let specs = ConvAutoencoderLayout.parameters(config)
        let adapter = specs.filter { $0.name.hasPrefix("ae.decoder_adapter.") }
        #expect(specs.count == 48 + 42 && adapter.count == 42)
        #expect(adapter.reduce(0) { $0 + $1.shape.reduce(1, *) } == 229_068)
        let shapes = Dictionary(uniqueKeysWithValues: adapter.map { ($0.name, $0.shape) })
        #expect(shapes["ae.decoder_adapter.conv_in.up"] == [64, 32] && shapes["ae.decoder_adapter.conv_in.down"] == [32, 4, 3, 3])
        #expect(shapes["ae.decoder_adapter.blocks.2.1.conv2.down"] == [32, 64, 3, 3])
        #expect(shapes["ae.decoder_adapter.conv_out.up"] == [3, 3] && shapes["ae.decoder_adapter.conv_out.bias"] == [3])
        #expect(ConvAutoencoderLayout.parameters(ConvAutoencoderConfig()).count == 48, "no adapter, no adapter keys")
    }

    /// convert → open keeps the adapter and its rank; the strict audit names adapter keys like any other.
    @Test func canonicalFileKeepsTheAdapterAndTheAuditNamesItsKeys() throws {
        let folder = try ModelWeights.open(Self.folder)
        let out = dir + "/adapter.safetensors"
        try folder.export(to: out, dtype: .f16)
        let back = try ModelWeights.open(out)
        #expect(back.firstStage == folder.firstStage && back.firstStage.conv?.decoderAdapterRank == 3)
        for spec in folder.parameters where spec.name.hasPrefix("ae.decoder_adapter.") {
            #expect(try back.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)")
        }
        #expect(CheckpointSummary.describe(back).joined(separator: "\n").contains("a rank-3 decoder adapter"))

        // The rank declared, the tensors absent (the plain fixture's weights): every adapter key is reported missing.
        let declared = dir + "/declared"
        try FileManager.default.copyItem(atPath: ConvFixture.folder("sr"), toPath: declared)
        let config = declared + "/autoencoder/config.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        json["decoder_adapter_rank"] = 3
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
        do {
            _ = try ModelWeights.open(declared)
            Issue.record("a folder without its adapter loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.count == 42 && audit.missing.allSatisfy { $0.name.hasPrefix("decoder_adapter.") })
            #expect(audit.unexpected.isEmpty && audit.mismatched.isEmpty)
        }
        // The tensors present, the rank not declared: they are unexpected, not silently ignored.
        let undeclared = dir + "/undeclared"
        try FileManager.default.copyItem(atPath: Self.folder, toPath: undeclared)
        try FileManager.default.removeItem(atPath: undeclared + "/autoencoder/config.json")
        try FileManager.default.copyItem(atPath: ConvFixture.folder("sr") + "/autoencoder/config.json", toPath: undeclared + "/autoencoder/config.json")
        do {
            _ = try ModelWeights.open(undeclared)
            Issue.record("an undeclared adapter loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.unexpected.count == 42 && audit.missing.isEmpty)
        }
    }

    @Test func rankOutsideItsBoundsIsRefused() throws {
        for rank in [0, -1, 1025] {
            #expect(throws: CheckpointError.self) {
                _ = try ConvAutoencoderConfig(decoderAdapterRank: rank).validated(path: "config.json")
            }
        }
        #expect(try ConvAutoencoderConfig(decoderAdapterRank: 32).validated(path: "config.json").decoderAdapterRank == 32)
    }
}
