import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// Fixtures made by `Scripts/fixtures/make_conv_autoencoder_fixtures.py` (torch 2.15.0, diffusers 0.42.1), which
/// imports the reference Scripts/train/conv_autoencoder.py: the tiny conv autoencoder (widths 8/16/16,
/// blocks 1/1/1 and 1/2/2, z = 4, scaling_factor 19.37, float16-valued weights) in
/// Fixtures/models/conv_{sr,inp}_folder/autoencoder, and Fixtures/parity/conv_autoencoder.safetensors
/// with PyTorch's encode of a 16×24 image and decode of a 5×7 latent, every module's output under
/// "module." + its PyTorch path.
enum ConvFixture {
    static let formatVersion = "1"
    static func folder(_ kind: String) -> String { Fixture.path("models/conv_\(kind)_folder") }

    /// The parity trace, refusing a fixture written by another version of the script.
    static func trace(_ path: String = Fixture.path("parity/conv_autoencoder.safetensors")) throws -> SafetensorsFile {
        let file = try SafetensorsFile(path: path)
        try #require(file.metadata["format_version"] == formatVersion,
                     "\(path) has format_version \(file.metadata["format_version"] ?? "none"), the tests expect \(formatVersion): re-run Scripts/fixtures/make_conv_autoencoder_fixtures.py")
        return file
    }
}

/// Tolerance, as ModelParityTests (whose reasoning applies unchanged): NMSE ≤ 1e-10 and
/// max |Δ| ≤ 2e-5 · max(1, max |reference|) per traced tensor. Both sides compute in float32 with
/// different summation orders (our im2col/Winograd GEMMs against PyTorch's convolution) and
/// different SiLU (FastMath's vectorised exp, ≤ 2 ulp): a few ulp per op, ~1e-6 relative after the
/// 20-odd convolutions — an NMSE near 1e-13. Any real mistake (a missing SiLU, the VQ encoder's
/// right/bottom padding instead of symmetric padding 1, a swapped up.l, the scaling applied the
/// wrong way) lands at NMSE 1e-3 or worse. Measured figures: docs/testing.md.
@Suite struct ConvAutoencoderParityTests {
    static func check(_ name: String, _ actual: Tensor, _ reference: SafetensorsFile, _ key: String) throws {
        let expected = try reference.load(key)
        #expect(actual.shape == expected.shape, "\(name): \(actual.shape) vs \(expected.shape)")
        guard actual.count == expected.count else { return }
        let cmp = Comparison(actual.values, expected.values)
        let scale = max(1, expected.values.map { abs(Double($0)) }.max() ?? 0)
        if ProcessInfo.processInfo.environment["LDM_PARITY_VERBOSE"] != nil { print("PARITY conv \(name) nmse=\(cmp.nmse) maxAbs=\(cmp.maxAbs) scale=\(scale)") }
        #expect(cmp.nmse <= ModelParityTests.nmseBound && cmp.maxAbs <= ModelParityTests.relativeBound * scale, "\(name): \(cmp)")
    }

    static func model(_ kind: String = "sr") throws -> (ModelWeights, ConvAutoencoder) {
        let weights = try ModelWeights.open(ConvFixture.folder(kind))
        return (weights, try ConvAutoencoder(weights, config: try #require(weights.firstStage.conv)))
    }

    /// Every traced module of `side` must have been seen on the Swift side and agree.
    static func checkModules(_ side: String, seen: [String: Tensor], _ trace: SafetensorsFile, expectedCount: Int) throws {
        let keys = trace.names.filter { $0.hasPrefix("module.\(side).") }
        #expect(keys.count == expectedCount)
        for key in keys {
            let path = String(key.dropFirst("module.".count))
            guard let mine = seen[path] else {
                Issue.record("module \(path) was not traced on the Swift side")
                continue
            }
            try check(path, mine, trace, key)
        }
    }

    @Test func encodeMatchesEveryTracedModule() throws {
        let (_, ae) = try Self.model()
        let trace = try ConvFixture.trace()
        var seen: [String: Tensor] = [:]
        let z = try ae.encode(try trace.load("ae.image"), workspace: Workspace()) { seen[$0] = try? $1.copy() }
        try Self.check("encoded", z, trace, "ae.encoded")
        // conv_in, 3 ResBlocks, down.0, down.1, conv_out
        try Self.checkModules("encoder", seen: seen, trace, expectedCount: 7)
    }

    @Test func decodeMatchesEveryTracedModule() throws {
        let (_, ae) = try Self.model()
        let trace = try ConvFixture.trace()
        var seen: [String: Tensor] = [:]
        let image = try ae.decode(try trace.load("ae.latent"), workspace: Workspace()) { seen[$0] = try? $1.copy() }
        try Self.check("decoded", image, trace, "ae.decoded")
        #expect(image.shape == [1, 3, 20, 28], "a 5×7 latent decodes to 4× its size")
        // conv_in, 5 ResBlocks, up.1, up.0, conv_out
        try Self.checkModules("decoder", seen: seen, trace, expectedCount: 9)
    }

    /// The first stage in the diffusion model's units: encode gives z · s, decode takes z · s. The
    /// scaling itself is one float32 rounding per element, as PyTorch's (checked bit for bit on
    /// PyTorch's own z), so the end-to-end bound is the module bound.
    @Test func firstStageScalesLatentsAsPyTorch() throws {
        let (weights, _) = try Self.model()
        let stage = try FirstStage(weights, config: weights.firstStage)
        let trace = try ConvFixture.trace()
        #expect(stage.latentChannels == 4 && stage.downsamplingFactor == 4 && stage.imageChannels == 3)
        let s = Float(try #require(weights.firstStage.conv).scalingFactor)
        let z = try trace.load("ae.encoded")
        try Elementwise.scale(z, by: s, into: z)
        #expect(z.values == (try trace.load("ae.encoded_scaled").values), "z · s bit for bit")
        let latent = try trace.load("ae.scaled_latent")
        try Elementwise.divide(latent, by: s, into: latent)
        #expect(latent.values == (try trace.load("ae.latent").values), "(z · s) / s bit for bit")

        let ws = Workspace()
        try Self.check("first stage encode", try stage.encode(try trace.load("ae.image"), workspace: ws), trace, "ae.encoded_scaled")
        try Self.check("first stage decode", try stage.decode(try trace.load("ae.scaled_latent"), workspace: ws), trace, "ae.decoded")
    }

    /// Bitwise identical for 1 and 2 threads, like every other model.
    @Test func decodeIsBitwiseIdenticalForOneAndTwoThreads() throws {
        let (_, ae) = try Self.model()
        let latent = try ConvFixture.trace().load("ae.latent")
        let runs = try [1, 2].map { threads in
            let (values, observed) = try withObservedThreads(threads) { try ae.decode(latent, workspace: Workspace()).values }
            #expect(observed == threads, "threads observed inside the kernels")
            return values
        }
        #expect(runs[0] == runs[1])
    }

    /// Opt-in: the default size (widths 32/64/64, 597,383 parameters) with random weights on a 64×96 image.
    ///     /tmp/torch-venv/bin/python Scripts/fixtures/make_conv_autoencoder_fixtures.py --full /tmp/ldm-conv-fullsize
    ///     LDM_EDIT_CONV_FULLSIZE=/tmp/ldm-conv-fullsize bash Scripts/test.sh --filter ConvAutoencoderParityTests
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_CONV_FULLSIZE"] != nil))
    func defaultSizeMatchesPyTorch() throws {
        let root = ProcessInfo.processInfo.environment["LDM_EDIT_CONV_FULLSIZE"] ?? ""
        let config = try DiffusersConfig.convAutoencoder(at: root + "/autoencoder/config.json")
        #expect(config.widths == [32, 64, 64] && config.decoderBlocks == [1, 2, 2])
        let source = try WeightFile.open(root + "/autoencoder/model.safetensors")
        let weights = PrefixedWeights(source: source, prefix: ConvAutoencoderLayout.prefix)
        let ae = try ConvAutoencoder(weights, config: config)
        let trace = try ConvFixture.trace(root + "/trace.safetensors")
        let ws = Workspace()
        var seen: [String: Tensor] = [:]
        try Self.check("full-size encoded", try ae.encode(try trace.load("ae.image"), workspace: ws) { seen[$0] = try? $1.copy() }, trace, "ae.encoded")
        try Self.check("full-size decoded", try ae.decode(try trace.load("ae.latent"), workspace: ws) { seen[$0] = try? $1.copy() }, trace, "ae.decoded")
        try Self.checkModules("encoder", seen: seen, trace, expectedCount: 7)
        try Self.checkModules("decoder", seen: seen, trace, expectedCount: 9)
    }
}

/// A weight file holding PyTorch state_dict keys, served under canonical names (prefix + key).
struct PrefixedWeights: WeightProvider {
    let source: any WeightSource
    let prefix: String
    func tensor(_ name: String) throws -> Tensor { try source.load(String(name.dropFirst(prefix.count))) }
}

@Suite struct ConvAutoencoderLayoutTests {
    /// conv_autoencoder.py `ConvAutoencoder()`: 597,383 parameters in 48 tensors; state_dict order
    /// starts encoder.conv_in, encoder.blocks.0.0.conv1 and ends decoder.up.0, decoder.up.1, decoder.conv_out.
    @Test func defaultConfigMatchesTheReferenceStateDict() {
        let specs = ConvAutoencoderLayout.parameters(ConvAutoencoderConfig())
        #expect(specs.count == 48)
        #expect(specs.reduce(0) { $0 + $1.shape.reduce(1, *) } == 597_383)
        #expect(specs.prefix(4).map(\.name) == ["ae.encoder.conv_in.weight", "ae.encoder.conv_in.bias",
                                                "ae.encoder.blocks.0.0.conv1.weight", "ae.encoder.blocks.0.0.conv1.bias"])
        #expect(specs.suffix(6).map(\.name) == ["ae.decoder.up.0.weight", "ae.decoder.up.0.bias", "ae.decoder.up.1.weight",
                                                "ae.decoder.up.1.bias", "ae.decoder.conv_out.weight", "ae.decoder.conv_out.bias"])
        let shapes = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.shape) })
        #expect(shapes["ae.encoder.down.0.weight"] == [64, 32, 3, 3] && shapes["ae.decoder.up.0.weight"] == [32, 64, 3, 3])
        #expect(shapes["ae.encoder.conv_out.weight"] == [4, 64, 3, 3] && shapes["ae.decoder.conv_in.weight"] == [64, 4, 3, 3])
    }

    /// The fixture's autoencoder/model.safetensors holds exactly the layout's keys and shapes.
    @Test func layoutNamesAreTheStateDictKeys() throws {
        let file = try WeightFile.open(ConvFixture.folder("sr") + "/autoencoder/model.safetensors")
        let specs = ConvAutoencoderLayout.parameters(ConvAutoencoderConfig(widths: [8, 16, 16]))
        #expect(Set(specs.map { String($0.name.dropFirst(3)) }) == Set(file.names))
        for spec in specs { #expect(file.tensors[String(spec.name.dropFirst(3))]?.shape == spec.shape, "\(spec.name)") }
    }

    /// The reach is the receptive field, measured: change one latent pixel (one image pixel) and see
    /// which outputs move. Every change lies within the reach, and some change reaches it (tight).
    /// Sizes stay below 1024 output pixels per convolution, so every convolution runs as im2col +
    /// GEMM and an output outside the field does not change by a single bit (a Winograd output is
    /// rounded through transforms of its whole 6×6 input tile, so its bits could move a little beyond).
    @Test func reachIsTheReceptiveField() throws {
        let (_, ae) = try ConvAutoencoderParityTests.model()
        let ws = Workspace()
        #expect(ae.layout.decoderReach == 9 && ae.layout.encoderReach == 6)
        let (h, w, f) = (3, 21, 4)
        func farthest(_ a: Tensor, _ b: Tensor, from p: (y: Int, x: Int), scale: Int) -> Int {
            let (ch, oh, ow) = (a.shape[1], a.shape[2], a.shape[3])
            var result = -1
            for c in 0..<ch { for y in 0..<oh { for x in 0..<ow where a.data[(c * oh + y) * ow + x] != b.data[(c * oh + y) * ow + x] {
                result = max(result, abs(y / scale - p.y), abs(x / scale - p.x))
            } } }
            return result
        }
        let latent = try Tensor(shape: [1, 4, h, w], values: (0..<(4 * h * w)).map { Float(($0 * 7919) % 2001) / 1000 - 1 })
        let base = try ae.decode(latent, workspace: ws).copy()
        latent.data[(2 * h + 1) * w + 10] += 0.5
        #expect(farthest(base, try ae.decode(latent, workspace: ws), from: (1, 10), scale: f) == ae.layout.decoderReach)

        let image = try Tensor(shape: [1, 3, h * f, w * f], values: (0..<(3 * h * f * w * f)).map { Float(($0 * 4099) % 1999) / 1000 - 1 })
        let encoded = try ae.encode(image, workspace: ws).copy()
        let (iy, ix) = (5, 10 * f + 2)  // pixel 42 reaches latents 5…16 (|4o − 42| ≤ 22): 6 from its own, 10
        image.data[(h * f + iy) * w * f + ix] += 0.5
        let changed = try ae.encode(image, workspace: ws)
        var moved = -1
        for c in 0..<4 { for y in 0..<h { for x in 0..<w where changed.data[(c * h + y) * w + x] != encoded.data[(c * h + y) * w + x] {
            moved = max(moved, abs(x - ix / f))
        } } }
        #expect(moved == ae.layout.encoderReach)
    }
}
