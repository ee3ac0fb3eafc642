import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// Fixtures made by `Scripts/fixtures/make_kl_fixtures.py` (torch 2.15.0, diffusers 0.42.1): a real diffusers
/// `AutoencoderKL` (SD 1.5's vae/config.json with block_out_channels [8, 16, 16, 16] and 4 groups; float16-valued
/// weights) in Fixtures/models/kl_inp_folder/vae beside a tiny 9 → 4 U-Net, the same model as one CompVis-named
/// file (Fixtures/models/kl_inp_compvis.safetensors), and Fixtures/parity/kl_autoencoder.safetensors with
/// PyTorch's encode of a 24×32 image and decode of a 3×4 latent, every module's output under "enc."/"dec." +
/// its diffusers path.
enum KLFixture {
    static let formatVersion = "1"
    static let folder = Fixture.path("models/kl_inp_folder")
    static let compVis = Fixture.path("models/kl_inp_compvis.safetensors")
    static let small = KLAutoencoderConfig(channels: 8, channelMult: [1, 2, 2, 2], numResBlocks: 2, latentChannels: 4, normGroups: 4)

    static func trace(_ path: String = Fixture.path("parity/kl_autoencoder.safetensors")) throws -> SafetensorsFile {
        let file = try SafetensorsFile(path: path)
        try #require(file.metadata["format_version"] == formatVersion,
                     "\(path) has format_version \(file.metadata["format_version"] ?? "none"), the tests expect \(formatVersion): re-run Scripts/fixtures/make_kl_fixtures.py")
        return file
    }

    static func model(_ path: String = folder) throws -> (ModelWeights, KLAutoencoder) {
        let weights = try ModelWeights.open(path)
        return (weights, try KLAutoencoder(weights, config: try #require(weights.firstStage.kl)))
    }
}

/// Tolerance, as ModelParityTests and ConvAutoencoderParityTests: NMSE ≤ 1e-10 and max |Δ| ≤ 2e-5 ·
/// max(1, max |reference|) per traced tensor. The KL model runs the VQ models' blocks (the same
/// convolutions, GroupNorm with eps 1e-6, single-head attention), so the same float32 reasoning holds:
/// a few ulp per op from summation order and the vectorised exp, far below what any structural mistake
/// (mean and log-variance swapped, double_z missing, the scaling applied the wrong way) produces.
@Suite struct KLAutoencoderParityTests {
    static func check(_ name: String, _ actual: Tensor, _ reference: SafetensorsFile, _ key: String) throws {
        try ConvAutoencoderParityTests.check("kl " + name, actual, reference, key)
    }

    static func checkModules(_ side: String, seen: [String: Tensor], _ trace: SafetensorsFile, expectedCount: Int) throws {
        let keys = trace.names.filter { $0.hasPrefix(side + ".") }
        #expect(keys.count == expectedCount)
        for key in keys {
            guard let mine = seen[key] else {
                Issue.record("module \(key) was not traced on the Swift side")
                continue
            }
            try check(key, mine, trace, key)
        }
    }

    @Test func encodeMatchesEveryTracedModule() throws {
        let (_, kl) = try KLFixture.model()
        let trace = try KLFixture.trace()
        let ws = Workspace()
        var seen: [String: Tensor] = [:]
        let moments = try kl.moments(try trace.load("kl.image"), workspace: ws) { seen["enc." + $0] = try? $1.copy() }
        try Self.check("moments", moments, trace, "kl.moments")
        try Self.check("mean", try kl.encode(try trace.load("kl.image"), workspace: ws), trace, "kl.mean")
        // conv_in, down_blocks.0…3, mid_block, conv_out, quant_conv
        try Self.checkModules("enc", seen: seen, trace, expectedCount: 8)
    }

    @Test func decodeMatchesEveryTracedModule() throws {
        let (_, kl) = try KLFixture.model()
        let trace = try KLFixture.trace()
        var seen: [String: Tensor] = [:]
        let image = try kl.decode(try trace.load("kl.latent"), workspace: Workspace()) { seen["dec." + $0] = try? $1.copy() }
        try Self.check("decoded", image, trace, "kl.decoded")
        #expect(image.shape == [1, 3, 24, 32], "a 3×4 latent decodes to 8× its size")
        // post_quant_conv, conv_in, mid_block, up_blocks.0…3, conv_out
        try Self.checkModules("dec", seen: seen, trace, expectedCount: 8)
    }

    /// In the diffusion model's units: encode = mean · s, decode takes z · s (diffusers `scaling_factor`).
    @Test func firstStageScalesTheMeanAsPyTorch() throws {
        let (weights, _) = try KLFixture.model()
        let stage = try FirstStage(weights, config: weights.firstStage)
        let trace = try KLFixture.trace()
        #expect(stage.latentChannels == 4 && stage.downsamplingFactor == 8 && stage.imageChannels == 3 && stage.reach == nil)
        #expect(weights.firstStage.kl?.scalingFactor == 0.18215)
        let mean = try trace.load("kl.mean")
        try Elementwise.scale(mean, by: Float(0.18215), into: mean)
        #expect(mean.values == (try trace.load("kl.mean_scaled").values), "mean · s bit for bit")
        let ws = Workspace()
        try Self.check("first stage encode", try stage.encode(try trace.load("kl.image"), workspace: ws), trace, "kl.mean_scaled")
        try Self.check("first stage decode", try stage.decode(try trace.load("kl.scaled_latent"), workspace: ws), trace, "kl.decoded_from_scaled")
    }

    /// Opt-in: SD 1.5's size (83,653,863 parameters) with random weights on a 64×64 image.
    ///     /tmp/torch-venv/bin/python Scripts/fixtures/make_kl_fixtures.py --full /tmp/ldm-kl-fullsize
    ///     LDM_EDIT_KL_FULLSIZE=/tmp/ldm-kl-fullsize bash Scripts/test.sh --filter KLAutoencoderParityTests
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_KL_FULLSIZE"] != nil))
    func sdSizeMatchesPyTorch() throws {
        let root = ProcessInfo.processInfo.environment["LDM_EDIT_KL_FULLSIZE"] ?? ""
        let configPath = root + "/vae/config.json"
        let config = try DiffusersConfig.klAutoencoder(try DiffusersConfig.load(configPath), path: configPath)
        #expect(config == .sd)
        let source = try WeightFile.open(root + "/vae/diffusion_pytorch_model.safetensors")
        var recipes: [String: String] = [:]
        for spec in AutoencoderLayout.parameters(config) {
            guard case .tensor(let names) = spec.diffusers else { continue }
            recipes[spec.name] = names.first { source.tensors[$0] != nil }
        }
        let kl = try KLAutoencoder(KeyedWeights(source: source, keys: recipes), config: config)
        let trace = try KLFixture.trace(root + "/trace.safetensors")
        let ws = Workspace()
        var seen: [String: Tensor] = [:]
        try Self.check("full-size moments", try kl.moments(try trace.load("kl.image"), workspace: ws) { seen["enc." + $0] = try? $1.copy() }, trace, "kl.moments")
        try Self.check("full-size decoded", try kl.decode(try trace.load("kl.latent"), workspace: ws) { seen["dec." + $0] = try? $1.copy() }, trace, "kl.decoded")
        try Self.checkModules("enc", seen: seen, trace, expectedCount: 8)
        try Self.checkModules("dec", seen: seen, trace, expectedCount: 8)
    }
}

/// The KL-f4 first stage of stable-diffusion-x4-upscaler (3 levels, f = 4, scaling_factor 0.08333): the same walk as
/// the f8 one with one level fewer. Fixtures from `make_kl_fixtures.py` (the `F4` config): Fixtures/models/kl_f4_vae
/// (a real diffusers AutoencoderKL, the x4 upscaler's vae/config.json with widths [8, 16, 16] and 4 groups) and
/// Fixtures/parity/kl_f4_autoencoder.safetensors (encode of a 24×32 image, decode of a 6×8 latent, every module).
/// Tolerances as `KLAutoencoderParityTests`.
@Suite struct KLF4AutoencoderTests {
    static let folder = Fixture.path("models/kl_f4_vae")

    static func model() throws -> KLAutoencoder {
        let configPath = folder + "/config.json"
        let config = try DiffusersConfig.klAutoencoder(try DiffusersConfig.load(configPath), path: configPath)
            .validated(path: configPath, spelling: .diffusers)
        return try KLAutoencoder(try KeyedWeights(folder: folder, config: config), config: config)
    }

    /// The level count, widths and scaling factor come from vae/config.json.
    @Test func configReadsThreeLevelsAndTheScalingFactor() throws {
        let kl = try Self.model()
        #expect(kl.config == KLAutoencoderConfig(channels: 8, channelMult: [1, 2, 2], numResBlocks: 2, latentChannels: 4, normGroups: 4,
                                                 scalingFactor: 0.08333))
        #expect(kl.config.downsamplingFactor == 4)
    }

    @Test func encodeAndDecodeMatchEveryTracedModule() throws {
        let kl = try Self.model()
        let trace = try KLFixture.trace(Fixture.path("parity/kl_f4_autoencoder.safetensors"))
        let ws = Workspace()
        var seen: [String: Tensor] = [:]
        let moments = try kl.moments(try trace.load("kl.image"), workspace: ws) { seen["enc." + $0] = try? $1.copy() }
        try KLAutoencoderParityTests.check("f4 moments", moments, trace, "kl.moments")
        #expect(moments.shape == [1, 8, 6, 8], "a 24×32 image encodes to a 6×8 latent at f = 4")
        let image = try kl.decode(try trace.load("kl.latent"), workspace: ws) { seen["dec." + $0] = try? $1.copy() }
        try KLAutoencoderParityTests.check("f4 decoded", image, trace, "kl.decoded")
        #expect(image.shape == [1, 3, 24, 32])
        // conv_in, down_blocks.0…2, mid_block, conv_out, quant_conv; and post_quant_conv, conv_in, mid_block, up_blocks.0…2, conv_out
        try KLAutoencoderParityTests.checkModules("enc", seen: seen, trace, expectedCount: 7)
        try KLAutoencoderParityTests.checkModules("dec", seen: seen, trace, expectedCount: 7)
    }

    /// FirstStage scales by the config's 0.08333, not SD 1.x's 0.18215.
    @Test func firstStageScalesByTheConfigsFactor() throws {
        let stage = FirstStage.kl(try Self.model())
        let trace = try KLFixture.trace(Fixture.path("parity/kl_f4_autoencoder.safetensors"))
        #expect(trace.metadata["scaling_factor"] == "0.08333" && stage.downsamplingFactor == 4)
        let ws = Workspace()
        try KLAutoencoderParityTests.check("f4 first stage encode", try stage.encode(try trace.load("kl.image"), workspace: ws), trace, "kl.mean_scaled")
        try KLAutoencoderParityTests.check("f4 first stage decode", try stage.decode(try trace.load("kl.scaled_latent"), workspace: ws), trace,
                                           "kl.decoded_from_scaled")
    }

    /// A CompVis file's first stage is recognised by its shapes; 3 levels (f = 4) is the x4 upscaler's, whose
    /// `scale_factor: 0.08333` (x4-upscaling.yaml) is not in the weights.
    @Test func compVisShapesDetectKLF4WithTheUpscalersScaling() throws {
        let config = KLAutoencoderConfig(channels: 8, channelMult: [1, 2, 2], numResBlocks: 2, latentChannels: 4)
        let prefix = AutoencoderLayout.prefix(.kl)
        let shapes = Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(config).map { (String($0.name.dropFirst(prefix.count)), $0.shape) })
        let detected = try #require(ConfigDetection.firstStage(shapes)?.kl)
        #expect(detected.channelMult == [1, 2, 2] && detected.downsamplingFactor == 4 && detected.scalingFactor == 0.08333)
        let f8 = Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(KLFixture.small).map { (String($0.name.dropFirst(prefix.count)), $0.shape) })
        #expect(ConfigDetection.firstStage(f8)?.kl?.scalingFactor == 0.18215)
    }
}

/// A diffusers component file served under canonical names through a name table (Linear ↔ 1x1 conv reshaped).
struct KeyedWeights: WeightProvider {
    let source: any WeightSource
    let keys: [String: String]
    var config: KLAutoencoderConfig = .sd
    func tensor(_ name: String) throws -> Tensor {
        guard let key = keys[name] else { throw CheckpointError.missingTensor(path: source.path, key: name) }
        let t = try source.load(key)
        let spec = AutoencoderLayout.parameters(config).first { $0.name == name }
        return try t.reshaped(spec?.shape ?? t.shape)
    }
}

extension KeyedWeights {
    /// A diffusers `vae/` folder's weights for `config`, by the layout's diffusers names.
    init(folder: String, config: KLAutoencoderConfig) throws {
        let source = try WeightFile.open(folder + "/diffusion_pytorch_model.safetensors")
        var recipes: [String: String] = [:]
        for spec in AutoencoderLayout.parameters(config) {
            guard case .tensor(let names) = spec.diffusers else { continue }
            recipes[spec.name] = names.first { source.tensors[$0] != nil }
        }
        self.init(source: source, keys: recipes, config: config)
    }
}

/// Loading the KL first stage: the diffusers `vae/` folder (both attention spellings), the CompVis single
/// file (`first_stage_model.*` detected by layout), ldm-edit's canonical file, and the strict audit.
@Suite struct KLModelWeightsTests {
    let folder = TemporaryFolder("ldm-kl")
    var dir: String { folder.path }

    /// SD 1.x's kl-f8 from the layout alone: diffusers AutoencoderKL() at SD 1.5's config has 83,653,863
    /// parameters in 248 tensors (counted with diffusers 0.42.1); CompVis names, double_z shapes, no codebook.
    @Test func sdLayoutMatchesTheReference() {
        let specs = AutoencoderLayout.parameters(KLAutoencoderConfig.sd)
        #expect(specs.count == 248)
        #expect(specs.reduce(0) { $0 + $1.shape.reduce(1, *) } == 83_653_863)
        let shapes = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.shape) })
        #expect(shapes["kl.encoder.conv_out.weight"] == [8, 512, 3, 3] && shapes["kl.quant_conv.weight"] == [8, 8, 1, 1])
        #expect(shapes["kl.post_quant_conv.weight"] == [4, 4, 1, 1] && shapes["kl.decoder.conv_in.weight"] == [512, 4, 3, 3])
        #expect(!specs.contains { $0.name.contains("quantize") })
        #expect(KLAutoencoderConfig.sd.downsamplingFactor == 8 && FirstStageConfig.kl(.sd).latentChannels == 4)
    }

    @Test func folderOpensAsInpaintingWithTheKLConfig() throws {
        let weights = try ModelWeights.open(KLFixture.folder)
        #expect(weights.layout == .diffusers && weights.task == .inpainting)
        #expect(weights.unet.inChannels == 9 && weights.unet.outChannels == 4)
        #expect(weights.firstStage == .kl(KLFixture.small))
        #expect(weights.parameters.filter { $0.name.hasPrefix("kl.") }.count == 244)
        let summary = CheckpointSummary.describe(weights).joined(separator: "\n")
        #expect(summary.contains("autoencoder: KL-f8, widths [8, 16, 16, 16], 4 latent channels (posterior mean) scaled by 0.18215"))
    }

    /// The CompVis single file (detected by its layout: quant_conv 8 → 8, no quantize.*), the folder with the
    /// old attention names (query/key/value/proj_attn) and the folder itself load to identical tensors.
    @Test func compVisFileAndBothAttentionSpellingsLoadIdentically() throws {
        let folder = try ModelWeights.open(KLFixture.folder)
        let compVis = try ModelWeights.open(KLFixture.compVis)
        #expect(compVis.layout == .compVis && compVis.task == .inpainting)
        // GroupNorm's group count is not visible in weights: detection assumes SD's 32 (the fixture has 4).
        var detected = try #require(compVis.firstStage.kl)
        #expect(detected.normGroups == 32)
        detected.normGroups = 4
        var unet = compVis.unet
        unet.normGroups = folder.unet.normGroups  // nor are the heads (the fixture's 2, `ldm_edit_num_heads`)
        unet.heads = folder.unet.heads
        #expect(FirstStageConfig.kl(detected) == folder.firstStage && unet == folder.unet)

        let old = dir + "/old_names"
        try FileManager.default.copyItem(atPath: KLFixture.folder, toPath: old)
        let file = try WeightFile.open(KLFixture.folder + "/vae/diffusion_pytorch_model.safetensors")
        func renamed(_ key: String) -> String {
            [(".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.")]
                .reduce(key) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        let entries = file.names.map { (renamed($0), file.tensors[$0]!.shape) }
        #expect(entries.contains { $0.0.hasSuffix("mid_block.attentions.0.query.weight") })
        let back = Dictionary(uniqueKeysWithValues: file.names.map { (renamed($0), $0) })
        try SafetensorsWriter.write(to: old + "/vae/diffusion_pytorch_model.safetensors", entries: entries, dtype: .f16, metadata: [:]) {
            try file.load(back[$0]!)
        }
        let oldNames = try ModelWeights.open(old)
        for spec in folder.parameters {
            let expected = try folder.tensor(spec.name).values
            #expect(try compVis.tensor(spec.name).values == expected, "\(spec.name)")
            #expect(try oldNames.tensor(spec.name).values == expected, "\(spec.name)")
        }
    }

    /// convert → open: identical tensors and configs under canonical names "kl.…"; float16 values, so f16 is exact.
    @Test(arguments: [SafetensorsWriter.OutputType.f32, .f16])
    func canonicalFileRoundTrips(_ dtype: SafetensorsWriter.OutputType) throws {
        let folder = try ModelWeights.open(KLFixture.folder)
        let out = dir + "/kl.\(dtype.rawValue).safetensors"
        try folder.export(to: out, dtype: dtype)
        let text = try #require(try WeightFile.open(out).metadata[ModelWeights.canonicalConfigKey])
        #expect(text.contains("\"klAutoencoder\":{") && !text.contains("\"autoencoder\""))
        let back = try ModelWeights.open(out)
        #expect(back.layout == .canonical && back.task == .inpainting)
        #expect(back.unet == folder.unet && back.firstStage == folder.firstStage)
        #expect(Set(back.sources[0].names) == Set(folder.parameters.map(\.name)))
        for spec in folder.parameters { #expect(try back.tensor(spec.name).values == (try folder.tensor(spec.name).values), "\(spec.name)") }
    }

    /// One missing, one mis-shaped and one unexpected KL tensor: one report with all three, in the canonical
    /// file and in the folder's vae/ (file keys; unexpected labelled with the component).
    @Test func auditListsEveryProblemAtOnce() throws {
        let good = try ModelWeights.open(KLFixture.folder)
        var entries = good.parameters.map { ($0.name, $0.shape) }
        entries.removeAll { $0.0 == "kl.post_quant_conv.bias" }
        let i = try #require(entries.firstIndex { $0.0 == "kl.quant_conv.weight" })
        entries[i].1 = [4, 8, 1, 1]
        entries.append(("kl.quantize.embedding.weight", [16, 4]))
        let config = String(decoding: try JSONEncoder().encode(ModelWeights.CanonicalConfig(unet: good.unet, firstStage: good.firstStage, schedule: nil)),
                            as: UTF8.self)
        let broken = dir + "/broken.safetensors"
        try SafetensorsWriter.write(to: broken, entries: entries, dtype: .f32, metadata: [ModelWeights.canonicalConfigKey: config]) { name in
            try Tensor.zeros(entries.first { $0.0 == name }!.1)
        }
        do {
            _ = try ModelWeights.open(broken)
            Issue.record("a broken file loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["kl.post_quant_conv.bias"])
            #expect(audit.mismatched == [.init(name: "kl.quant_conv.weight", expected: [8, 8, 1, 1], actual: [4, 8, 1, 1])])
            #expect(audit.unexpected == ["kl.quantize.embedding.weight"])
        }

        let folder = dir + "/folder"
        try FileManager.default.copyItem(atPath: KLFixture.folder, toPath: folder)
        let file = try WeightFile.open(KLFixture.folder + "/vae/diffusion_pytorch_model.safetensors")
        var keys = file.names.map { ($0, file.tensors[$0]!.shape) }
        keys.removeAll { $0.0 == "decoder.conv_out.bias" }
        let j = try #require(keys.firstIndex { $0.0 == "encoder.conv_out.weight" })
        keys[j].1 = [4, 16, 3, 3]  // a VAE without double_z
        keys.append(("encoder.extra.weight", [2]))
        try SafetensorsWriter.write(to: folder + "/vae/diffusion_pytorch_model.safetensors", entries: keys, dtype: .f32, metadata: [:]) { name in
            let shape = keys.first { $0.0 == name }!.1
            return file.tensors[name]?.shape == shape ? try file.load(name) : try Tensor.zeros(shape)
        }
        do {
            _ = try ModelWeights.open(folder)
            Issue.record("a broken folder loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["decoder.conv_out.bias"])
            #expect(audit.mismatched == [.init(name: "encoder.conv_out.weight", expected: [8, 16, 3, 3], actual: [4, 16, 3, 3])])
            #expect(audit.unexpected == ["vae/encoder.extra.weight"])
        }
    }

    /// Configs that change the computation, and folders with two first stages, are refused by name.
    @Test func unsupportedConfigsAndFoldersAreRefused() throws {
        func refusal(_ json: [String: Any]) -> String {
            var base: [String: Any] = ["_class_name": "AutoencoderKL", "block_out_channels": [8, 16, 16, 16]]
            base.merge(json) { $1 }
            do { _ = try DiffusersConfig.klAutoencoder(base, path: "vae/config.json"); return "accepted" } catch { return error.description }
        }
        #expect(refusal([:]) == "accepted")
        #expect(refusal(["_class_name": "VQModel"]).contains("_class_name \"VQModel\""))
        #expect(refusal(["shift_factor": 0.0609]).contains("shift_factor"))
        #expect(refusal(["use_quant_conv": false]).contains("use_quant_conv"))
        #expect(refusal(["act_fn": "gelu"]).contains("act_fn = gelu"))
        let two = dir + "/two"
        try FileManager.default.copyItem(atPath: KLFixture.folder, toPath: two)
        try FileManager.default.copyItem(atPath: ConvFixture.folder("inp") + "/autoencoder", toPath: two + "/autoencoder")
        do { _ = try ModelWeights.open(two); Issue.record("opened") } catch {
            #expect(error.description.contains("both autoencoder/ and vae/: a model has one first stage"))
        }
    }
}
