import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// Each architecture is described once, by its layout; the model and config detection read it.
/// These tests hold that together for the real configurations at full size: the model asks for
/// exactly the parameters the layout lists (each once, nothing else), and detection recovers the
/// config from the layout's own names and shapes.
@Suite struct LayoutAgreementTests {
    /// Serves every listed parameter as a view of one shared zeroed buffer (no full-size weights are
    /// allocated) and records each name asked for. An unlisted name fails the build of the model; a
    /// layer expecting another element count fails the shape check of its load.
    final class RecordingWeights: WeightProvider, @unchecked Sendable {
        let shapes: [String: [Int]]
        let storage: TensorStorage
        private let lock = NSLock()
        private var names: [String] = []

        init(_ specs: [ParameterSpec]) throws {
            shapes = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.shape) })
            let largest = specs.map { $0.shape.reduce(1, *) }.max() ?? 1
            storage = try TensorStorage(capacity: largest)
            storage.pointer.initialize(repeating: 0, count: largest)
        }

        var requested: [String] { lock.withLock { names } }

        func tensor(_ name: String) throws -> Tensor {
            lock.withLock { names.append(name) }
            guard let shape = shapes[name] else { throw CheckpointError.missingTensor(path: "recording", key: name) }
            return try Tensor(shape: shape, storage: storage)
        }
    }

    /// Every parameter requested exactly once, and nothing that is not listed.
    static func expectConsumedExactly(_ specs: [ParameterSpec], _ weights: RecordingWeights) {
        let requested = weights.requested
        let counts = Dictionary(requested.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(requested.count == specs.count, "\(requested.count) tensors requested, the layout lists \(specs.count)")
        #expect(counts.filter { $0.value > 1 }.keys.sorted() == [], "requested more than once")
        #expect(Set(specs.map(\.name)).subtracting(requested).sorted() == [], "listed but never requested")
        #expect(Set(requested).subtracting(specs.map(\.name)).sorted() == [], "requested but not listed")
    }

    static let unets: [UNetConfig] = [.superResolution4x, .inpaintingBig, .sd15Inpainting, sd2Like, .x4Upscaler]
    /// SD 2.x's layout (linear projections, 64 channels per head, context 1024) on the SD 1.5 inpainting widths.
    static let sd2Like: UNetConfig = {
        var c = UNetConfig.sd15Inpainting
        c.heads = .channelsPerHead(64)
        c.crossAttention = .init(contextDim: 1024, depth: 1, linearProjection: true)
        return c
    }()
    static let autoencoders: [AutoencoderConfig] = [.vqF4, .vqF4NoAttention]

    @Test(arguments: unets)
    func unetConsumesExactlyItsLayout(_ config: UNetConfig) throws {
        let specs = UNetLayout.parameters(config)
        let weights = try RecordingWeights(specs)
        _ = try UNet(weights, config: config)
        Self.expectConsumedExactly(specs, weights)
    }

    @Test(arguments: autoencoders)
    func vqAutoencoderConsumesExactlyItsLayout(_ config: AutoencoderConfig) throws {
        let specs = AutoencoderLayout.parameters(config)
        let weights = try RecordingWeights(specs)
        _ = try VQAutoencoder(weights, config: config)
        Self.expectConsumedExactly(specs, weights)
    }

    @Test func convAutoencoderConsumesExactlyItsLayout() throws {
        for config in [ConvAutoencoderConfig(), ConvAutoencoderConfig(widths: [8, 16, 16])] {
            let specs = ConvAutoencoderLayout.parameters(config)
            let weights = try RecordingWeights(specs)
            _ = try ConvAutoencoder(weights, config: config)
            Self.expectConsumedExactly(specs, weights)
        }
    }

    /// Stable Diffusion's KL-f8 and the tiny fixture's: the model consumes exactly the `.kl` walk.
    @Test func klAutoencoderConsumesExactlyItsLayout() throws {
        for config in [KLAutoencoderConfig.sd, .x4Upscaler, KLAutoencoderConfig(channels: 8, channelMult: [1, 2, 2, 2], normGroups: 4)] {
            let specs = AutoencoderLayout.parameters(config)
            let weights = try RecordingWeights(specs)
            _ = try KLAutoencoder(weights, config: config)
            Self.expectConsumedExactly(specs, weights)
        }
    }

    /// CompVis first_stage_model.* names of SD's KL-f8 are recognised as KL (not VQ) and give the config back;
    /// the VQ configs stay VQ.
    @Test func firstStageDetectionTellsKLFromVQ() {
        let kl = Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(KLAutoencoderConfig.sd).map {
            (String($0.name.dropFirst(AutoencoderLayout.klPrefix.count)), $0.shape)
        })
        #expect(ConfigDetection.autoencoder(kl) == nil)
        #expect(ConfigDetection.firstStage(kl) == .kl(.sd))
        var noDoubleZ = kl
        noDoubleZ["encoder.conv_out.weight"] = [4, 512, 3, 3]
        #expect(ConfigDetection.firstStage(noDoubleZ) == nil)
        for config in Self.autoencoders {
            let vq = Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(config).map {
                (String($0.name.dropFirst(AutoencoderLayout.prefix.count)), $0.shape)
            })
            #expect(ConfigDetection.firstStage(vq) == .vq(config))
        }
    }

    /// Detection inverts the layout: the real configs come back from their own key names and
    /// shapes, read raw or through the flattened EMA names (files pruned to their EMA weights).
    @Test(arguments: unets)
    func unetDetectionRecoversTheConfig(_ config: UNetConfig) {
        let shapes = Dictionary(uniqueKeysWithValues: UNetLayout.parameters(config).map {
            (String($0.name.dropFirst(UNetLayout.prefix.count)), $0.shape)
        })
        // A level without attention has no attn1 to show only_cross_attention (the x4 upscaler's level 0: true in its
        // config, the same computation either way): detection reads false there.
        var expected = config
        if var cross = config.crossAttention, let only = cross.onlyCrossAttention {
            cross.onlyCrossAttention = only.enumerated().map { config.attentionLevels.contains($0.offset) && $0.element }
            expected.crossAttention = cross
        }
        #expect(ConfigDetection.unet(shapes) == expected)
        let ema = Dictionary(uniqueKeysWithValues: shapes.map { ($0.key.replacingOccurrences(of: ".", with: ""), $0.value) })
        #expect(ConfigDetection.unet(count: ema.count) { ema[$0.replacingOccurrences(of: ".", with: "")] } == expected)
        var missing = shapes
        missing["out.0.bias"] = nil
        #expect(ConfigDetection.unet(missing) == nil)
    }

    @Test(arguments: autoencoders)
    func vqDetectionRecoversTheConfig(_ config: AutoencoderConfig) {
        let shapes = Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(config).map {
            (String($0.name.dropFirst(AutoencoderLayout.prefix.count)), $0.shape)
        })
        #expect(ConfigDetection.autoencoder(shapes) == config)
        var extra = shapes
        extra["encoder.down.9.block.0.conv1.weight"] = [1, 1, 3, 3]
        #expect(ConfigDetection.autoencoder(extra) == nil)
    }

    /// The U-Net's downsampling factor is 2^(levels − 1): 8 for both released U-Nets.
    @Test func downsamplingFactor() {
        #expect(UNetConfig.superResolution4x.downsamplingFactor == 8 && UNetConfig.inpaintingBig.downsamplingFactor == 8)
        var two = UNetConfig.superResolution4x
        two.channelMult = [1, 2]
        #expect(two.downsamplingFactor == 2)
    }
}
