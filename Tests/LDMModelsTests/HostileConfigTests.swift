import Foundation
import Testing
@testable import LDMModels

/// One hostile field edited into a real config (a diffusers folder's `unet/` or `vqvae/config.json`,
/// or the `ldm_edit_config` metadata of a converted file); `value` is what the error shows.
struct ConfigEdit: Sendable, CustomTestStringConvertible {
    /// Dotted key path → JSON text of the new value (replacing the old one whole).
    let edits: [String: String]
    let field: String
    let value: String

    init(_ key: String, _ json: String, field: String? = nil, value: String? = nil) {
        edits = [key: json]
        self.field = field ?? key
        self.value = value ?? json
    }

    init(_ edits: [String: String], field: String, value: String) {
        (self.edits, self.field, self.value) = (edits, field, value)
    }

    var testDescription: String { edits.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }

    /// `object` with each edit applied: nested objects are followed along the dots, the last key replaced.
    func applied(to object: [String: Any]) throws -> [String: Any] {
        func set(_ path: ArraySlice<String>, _ value: Any, in object: [String: Any]) throws -> [String: Any] {
            var object = object
            let key = path.first!
            object[key] = path.count == 1 ? value : try set(path.dropFirst(), value, in: try #require(object[key] as? [String: Any]))
            return object
        }
        var out = object
        for (path, json) in edits {
            let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
            out = try set(ArraySlice(path.split(separator: ".").map(String.init)), value, in: out)
        }
        return out
    }
}

/// Model configs whose numbers describe no buildable model (negative or zero block counts, empty or
/// zero channel multipliers, widths of 2^40, group and head counts that do not divide the widths,
/// non-RGB autoencoders…) are refused with `CheckpointError.invalidConfig` naming the field as the
/// file spells it, before any layout walk: a diffusers folder and a converted file, every field.
/// Before these checks `"layers_per_block": -1` trapped in `UNetLayout` (`0..<numResBlocks`).
@Suite struct HostileConfigTests {
    let folder = TemporaryFolder("ldm-config")
    var dir: String { folder.path }

    static let big = "1099511627776"  // 2^40

    static let unetCases: [ConfigEdit] = [
        .init("layers_per_block", "-1"), .init("layers_per_block", "0"), .init("layers_per_block", "17"),
        .init("layers_per_block", #""two""#), .init("layers_per_block", "2.5"),
        .init("block_out_channels", "[]"), .init("block_out_channels", "[0, 0]"), .init("block_out_channels", "[-32, -32]"),
        .init("block_out_channels", "[32, -32]"), .init("block_out_channels", "[\(big), \(big)]"),
        .init("block_out_channels", "[32, \(big)]"), .init("block_out_channels", "[32, 48]"),
        .init(["block_out_channels": "[32, 32, 32, 32, 32, 32, 32, 32, 32]", "down_block_types": "[" + Array(repeating: #""DownBlock2D""#, count: 9).joined(separator: ",") + "]"],
              field: "block_out_channels", value: "[32, 32, 32, 32, 32, 32, 32, 32, 32]"),
        .init("down_block_types", #"["DownBlock2D"]"#),
        .init("in_channels", "0"), .init("in_channels", "-6"), .init("in_channels", "5000"), .init("in_channels", #""6""#),
        .init("out_channels", "0"),
        .init("norm_num_groups", "0"), .init("norm_num_groups", "5"), .init("norm_num_groups", "64"), .init("norm_num_groups", "-32"),
        .init("attention_head_dim", "0"), .init("attention_head_dim", "10"), .init("attention_head_dim", "[8,16]"),
        .init("ldm_edit_num_heads", "0"), .init("ldm_edit_num_heads", "3"), .init("ldm_edit_num_heads", "-8"),
        .init("norm_eps", "0", value: "0.0"), .init("norm_eps", "-1", value: "-1.0"), .init("norm_eps", #""x""#),
    ]

    static let vqCases: [ConfigEdit] = [
        .init("layers_per_block", "-1"), .init("layers_per_block", "0"),
        .init("block_out_channels", "[0]"), .init("block_out_channels", "[\(big)]"), .init("block_out_channels", "[32, \(big)]"),
        .init("in_channels", "4"), .init("out_channels", "1"),
        .init("latent_channels", "0"), .init("latent_channels", "-3"), .init("latent_channels", "2000"),
        .init("vq_embed_dim", "0"), .init("num_vq_embeddings", "0"), .init("num_vq_embeddings", "2097152"),
        .init("norm_num_groups", "0"), .init("norm_num_groups", "7"),
    ]

    static let canonicalCases: [ConfigEdit] = [
        .init("unet.numResBlocks", "-1"), .init("unet.numResBlocks", "0"),
        .init("unet.channelMult", "[]"), .init("unet.channelMult", "[0, 1]"), .init("unet.channelMult", "[1, \(big)]"),
        .init("unet.modelChannels", "0"), .init("unet.modelChannels", "-32"), .init("unet.modelChannels", big),
        .init("unet.inChannels", "0"), .init("unet.outChannels", "-1"),
        .init("unet.normGroups", "0"), .init("unet.normGroups", "5"),
        .init("unet.heads", #"{"count": {"_0": 0}}"#, value: "count(0)"), .init("unet.heads", #"{"count": {"_0": 3}}"#, value: "count(3)"),
        .init("unet.heads", #"{"channelsPerHead": {"_0": 0}}"#, value: "channelsPerHead(0)"),
        .init("unet.attentionLevels", "[5]"), .init("unet.attentionLevels", "[-1]"),
        .init("unet.normEps", "0", value: "0.0"), .init("unet.normEps", "-1", value: "-1.0"),
        .init("autoencoder.channels", "0"), .init("autoencoder.channels", big),
        .init("autoencoder.channelMult", "[]"), .init("autoencoder.channelMult", "[1, -1]"),
        .init("autoencoder.numResBlocks", "-1"), .init("autoencoder.inChannels", "4"), .init("autoencoder.outChannels", "0"),
        .init("autoencoder.zChannels", "0"), .init("autoencoder.embedDim", "0"),
        .init("autoencoder.codebookSize", "0"), .init("autoencoder.codebookSize", big),
        .init("autoencoder.normGroups", "0"), .init("autoencoder.normGroups", "3"), .init("autoencoder.normEps", "0", value: "0.0"),
    ]

    static let convCanonicalCases: [ConfigEdit] = [
        .init("convAutoencoder.widths", "[]"), .init("convAutoencoder.widths", "[8, \(big), 16]", value: "[8, \(big), 16]"),
        .init("convAutoencoder.encoder_blocks", "[1]"), .init("convAutoencoder.latent_channels", "0"),
        .init("unet.numResBlocks", "-1"),
    ]

    /// Stable Diffusion's KL first stage: the shared encoder/decoder bounds and its scaling factor.
    static let klCanonicalCases: [ConfigEdit] = [
        .init("klAutoencoder.channelMult", "[]"), .init("klAutoencoder.numResBlocks", "0"),
        .init("klAutoencoder.scalingFactor", "0", value: "0.0"), .init("klAutoencoder.scalingFactor", "-1", value: "-1.0"),
    ]

    func expectRefusal(_ path: String, opening target: String, _ c: ConfigEdit) {
        do {
            _ = try ModelWeights.open(target)
            Issue.record("\(c.testDescription) opened")
        } catch {
            guard case .invalidConfig(let p, let field, let value, let expected) = error else { Issue.record("\(c.testDescription): \(error)"); return }
            #expect(p == path && field == c.field && value == c.value && !expected.isEmpty, "\(error)")
            #expect(error.description.hasPrefix("\(path): invalid model config: \(c.field) = \(c.value); expected "))
        }
    }

    /// A copy of the parity SR folder with one component's config.json edited.
    func folder(_ component: String, _ c: ConfigEdit) throws -> (folder: String, config: String) {
        let folder = dir + "/" + UUID().uuidString
        try FileManager.default.copyItem(atPath: Fixture.path("parity/sr"), toPath: folder)
        let config = "\(folder)/\(component)/config.json"
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        try JSONSerialization.data(withJSONObject: try c.applied(to: json)).write(to: URL(fileURLWithPath: config))
        return (folder, config)
    }

    @Test(arguments: unetCases) func diffusersUNetConfig(_ c: ConfigEdit) throws {
        let (folder, config) = try folder("unet", c)
        expectRefusal(config, opening: folder, c)
    }

    @Test(arguments: vqCases) func diffusersVQConfig(_ c: ConfigEdit) throws {
        let (folder, config) = try folder("vqvae", c)
        expectRefusal(config, opening: folder, c)
    }

    /// A converted file whose `ldm_edit_config` metadata is edited in place (tensors untouched).
    func canonical(from source: String, _ c: ConfigEdit) throws -> String {
        let converted = dir + "/" + UUID().uuidString + ".safetensors"
        try ModelWeights.open(source).export(to: converted)
        let out = dir + "/" + UUID().uuidString + ".safetensors"
        try Self.rewriteConfig(converted, to: out) { try c.applied(to: $0) }
        return out
    }

    @Test(arguments: canonicalCases) func canonicalVQFileConfig(_ c: ConfigEdit) throws {
        let file = try canonical(from: Fixture.path("parity/sr"), c)
        expectRefusal(file, opening: file, c)
    }

    @Test(arguments: convCanonicalCases) func canonicalConvFileConfig(_ c: ConfigEdit) throws {
        let file = try canonical(from: ConvFixture.folder("sr"), c)
        expectRefusal(file, opening: file, c)
    }

    @Test(arguments: klCanonicalCases) func canonicalKLFileConfig(_ c: ConfigEdit) throws {
        let file = try canonical(from: Fixture.path("models/kl_inp_folder"), c)
        expectRefusal(file, opening: file, c)
    }

    /// Stable Diffusion's cross-attention numbers: a context width of 0, transformer depths of 0 or 17.
    static let crossAttentionCanonicalCases: [ConfigEdit] = [
        .init("unet.crossAttention.contextDim", "0"), .init("unet.crossAttention.contextDim", big),
        .init("unet.crossAttention.depth", "0"), .init("unet.crossAttention.depth", "17"),
    ]

    @Test(arguments: crossAttentionCanonicalCases) func canonicalSDFileConfig(_ c: ConfigEdit) throws {
        let file = try canonical(from: Fixture.path("parity/sd1"), c)
        expectRefusal(file, opening: file, c)
    }

    @Test(arguments: [ConfigEdit("cross_attention_dim", "0"), ConfigEdit("cross_attention_dim", "-768"),
                      ConfigEdit("transformer_layers_per_block", "0"), ConfigEdit("transformer_layers_per_block", "17"),
                      ConfigEdit("attention_head_dim", "3")])
    func diffusersSDConfig(_ c: ConfigEdit) throws {
        let folder = dir + "/" + UUID().uuidString
        try FileManager.default.copyItem(atPath: Fixture.path("parity/sd1"), toPath: folder)
        let config = "\(folder)/unet/config.json"
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        try JSONSerialization.data(withJSONObject: try c.applied(to: json)).write(to: URL(fileURLWithPath: config))
        expectRefusal(config, opening: folder, c)
    }

    @Test func diffusersKLConfig() throws {
        let folder = dir + "/" + UUID().uuidString
        try FileManager.default.copyItem(atPath: Fixture.path("models/kl_inp_folder"), toPath: folder)
        for c in [ConfigEdit("layers_per_block", "0"), ConfigEdit("scaling_factor", "0", value: "0.0")] {
            let config = "\(folder)/vae/config.json"
            let original = try Data(contentsOf: URL(fileURLWithPath: config))
            let json = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            try JSONSerialization.data(withJSONObject: try c.applied(to: json)).write(to: URL(fileURLWithPath: config))
            expectRefusal(config, opening: folder, c)
            try original.write(to: URL(fileURLWithPath: config))
        }
    }

    /// Values of the wrong JSON type in the metadata: the decoder's complaint, with the field's path.
    @Test func canonicalTypeErrorsNameTheField() throws {
        for (edit, field) in [(ConfigEdit("unet.numResBlocks", #""two""#), "unet.numResBlocks"),
                              (ConfigEdit("autoencoder.codebookSize", "[64]"), "autoencoder.codebookSize")] {
            let file = try canonical(from: Fixture.path("parity/sr"), edit)
            #expect(throws: CheckpointError.self) { _ = try ModelWeights.open(file) }
            do { _ = try ModelWeights.open(file) } catch {
                guard case .unsupportedModel(let p, let reason) = error else { Issue.record("\(error)"); continue }
                #expect(p == file && reason.contains("not a valid config: \(field): "), "\(reason)")
            }
        }
    }

    /// The bounds let every released configuration through (and the unedited fixtures, and
    /// Stable Diffusion 1.x-sized numbers: widths to 1280, 4 levels, 8 heads, 32 groups).
    @Test func releasedConfigsPass() throws {
        for unet in [UNetConfig.superResolution4x, .inpaintingBig,
                     UNetConfig(inChannels: 9, outChannels: 4, modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: 2,
                                attentionLevels: [0, 1, 2], heads: .count(8), resblockUpdown: false), .sd15Inpainting] {
            #expect(try unet.validated(path: "p") == unet)
        }
        for vq in [AutoencoderConfig.vqF4, .vqF4NoAttention,
                   AutoencoderConfig(channels: 128, channelMult: [1, 2, 4, 4], numResBlocks: 2, zChannels: 4, embedDim: 4, codebookSize: 16384)] {
            #expect(try vq.validated(path: "p") == vq)
        }
        for name in ["sr_diffusers", "inp_diffusers", "conv_sr_folder", "conv_inp_folder"] {
            _ = try ModelWeights.open(ModelWeightsTests.path(name))
        }
    }

    /// The models built directly from a config (not through a file) check it too.
    @Test func modelsRefuseBadConfigsFromDirectCallers() throws {
        let weights = try ModelWeights.open(Fixture.path("parity/sr"))
        var unet = weights.unet
        unet.numResBlocks = -1
        #expect(throws: CheckpointError.invalidConfig(path: "UNetConfig", field: "unet.numResBlocks", value: "-1",
                                                      expected: "1 to 16 ResBlocks per level (released: 2)")) { _ = try UNet(weights, config: unet) }
        var vq = try #require(weights.firstStage.vq)
        vq.channelMult = []
        #expect(throws: CheckpointError.self) { _ = try VQAutoencoder(weights, config: vq) }
    }

    /// A CompVis checkpoint's config is detected from shapes, with CompVis' 32 GroupNorm groups; the
    /// tiny fixture's widths (8, 16) are not multiples of 32, so it opens (for inspection) but is not
    /// converted into a file that would then be refused.
    @Test func exportWritesOnlyConfigsThatOpenAgain() throws {
        let path = ModelWeightsTests.path("sr_compvis.ckpt")
        let weights = try ModelWeights.open(path)
        #expect(weights.unet.normGroups == 32 && weights.unet.modelChannels == 8)
        let out = dir + "/tiny.safetensors"
        #expect(throws: CheckpointError.invalidConfig(path: path, field: "unet.normGroups", value: "32",
                                                      expected: "a group count dividing every width, so 8 (released: 32)")) {
            try weights.export(to: out)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Rewrites a safetensors file with its `ldm_edit_config` metadata passed through `edit` (the data
    /// section is copied unchanged: offsets are relative to it).
    static func rewriteConfig(_ source: String, to target: String, _ edit: ([String: Any]) throws -> [String: Any]) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        var metadata = try #require(header["__metadata__"] as? [String: String])
        let text = try #require(metadata[ModelWeights.canonicalConfigKey])
        let config = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        metadata[ModelWeights.canonicalConfigKey] = String(decoding: try JSONSerialization.data(withJSONObject: try edit(config)), as: UTF8.self)
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        out.append(json)
        out.append(data.subdata(in: (8 + length)..<data.count))
        try out.write(to: URL(fileURLWithPath: target))
    }
}
