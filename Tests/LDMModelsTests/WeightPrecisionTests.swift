import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// 16-bit weights kept 16-bit in memory (`WeightPrecision.asStored`, `WeightTensor`) against the same
/// files widened to Float32 at load (`.float32`, the path before): the U-Net, the first stage and the
/// CLIP text encoder give the same outputs bit for bit (widening is exact), on the f16 fixtures of every
/// family; f32 files stay f32; bf16 files stay bf16 and are exact too; the memory accounting follows.
@Suite struct WeightPrecisionTests {
    /// f16 folders that run: Stable Diffusion inpainting, the KL and conv autoencoder LDM inpainting
    /// models (their diffusers attention is fused into legacy qkv rows).
    static let runnable = ["models/sd_inpaint_folder", "models/kl_inp_folder", "models/conv_inp_folder"]
    /// The same models' CompVis single files: their tiny widths do not fit the 32 GroupNorm groups
    /// single files are detected with, so they are compared tensor for tensor, not run.
    static let singleFiles = ["models/sd_inpaint_compvis.safetensors", "models/kl_inp_compvis.safetensors"]

    static func values(_ shape: [Int], seed: Int) throws -> Tensor {
        let t = try Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = Float(((i + seed) * 7919) % 2001) / 1000 - 1 }
        return t
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.values.map(\.bitPattern) }

    /// Every output of the model's parts for fixed inputs: a 32×32 latent (1024 pixels: the
    /// U-Net's first level runs Winograd, the lower ones im2col/GEMM), 2 prompts, encode and decode.
    static func outputs(_ weights: ModelWeights) throws -> [String: [UInt32]] {
        let ws = Workspace()
        var out: [String: [UInt32]] = [:]
        let unet = try UNet(weights, config: weights.unet)
        let x = try values([2, weights.unet.inChannels, 32, 32], seed: 1)
        let context = try weights.unet.crossAttention.map { try values([2, 77, $0.contextDim], seed: 2) }
        out["unet"] = bits(try unet(x, timesteps: [981, 1], context: context, workspace: ws))
        let stage = try FirstStage(weights, config: weights.firstStage)
        let f = stage.downsamplingFactor
        out["decode"] = bits(try stage.decode(try values([1, stage.latentChannels, 8, 8], seed: 3), workspace: ws))
        out["encode"] = bits(try stage.encode(try values([1, stage.imageChannels, 8 * f, 8 * f], seed: 4), workspace: ws))
        if let text = weights.textEncoder {
            let encoder = try CLIPTextEncoder(text, config: text.config)
            let tokens = [[49406, 320, 2368, 49407] + Array(repeating: 49407, count: 73), (0..<77).map { ($0 * 641) % text.config.vocabSize }]
            out["text"] = bits(try encoder(tokens: tokens, workspace: ws))
        }
        return out
    }

    @Test(arguments: runnable)
    func sixteenBitInMemoryGivesTheSameBitsAsFloat32(_ name: String) throws {
        let path = Fixture.path(name)
        let half = try ModelWeights.open(path, precision: .asStored), wide = try ModelWeights.open(path, precision: .float32)
        // The layers' matrices really are held in 16 bits (and the text encoder's with them).
        let matrices = half.parameters.filter { $0.shape.count > 1 }
        #expect(try matrices.allSatisfy { try half.weight($0.name).precision == .float16 }, "\(name)")
        #expect(try matrices.allSatisfy { try wide.weight($0.name).precision == .float32 }, "\(name)")
        if let text = half.textEncoder {
            #expect(text.precision == .asStored && wide.textEncoder?.precision == .float32)
            #expect(try text.weight(CLIPTextLayout(text.config).tokenEmbedding.weight.name).precision == .float16)
        }
        let (a, b) = (try Self.outputs(half), try Self.outputs(wide))
        #expect(a.keys.sorted() == b.keys.sorted())
        for (part, bits) in a {
            let other = b[part] ?? []
            let differ = zip(bits, other).filter { $0 != $1 }.count
            #expect(bits.count == other.count && differ == 0, "\(name) \(part): \(differ) of \(bits.count) values differ")
        }
        // Half the bytes for the matrices; 1-D parameters stay 4 bytes each either way.
        let vectors = half.parameters.filter { $0.shape.count == 1 }.reduce(0) { $0 + 4 * $1.shape.reduce(1, *) }
        let matrixCount = matrices.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let textHalf = half.textEncoder?.memoryBytes ?? 0, textWide = wide.textEncoder?.memoryBytes ?? 0
        #expect(half.memoryBytes - textHalf == vectors + 2 * matrixCount)
        #expect(wide.memoryBytes - textWide == vectors + 4 * matrixCount)
        #expect((textHalf < textWide) == (half.textEncoder != nil))
        #expect(CheckpointSummary.describe(half).contains("  weights in memory: \(half.memoryBytes >> 20) MiB (f16/bf16 kept in 16 bits, widened per layer)"))
        #expect(CheckpointSummary.describe(wide).contains("  weights in memory: \(wide.memoryBytes >> 20) MiB (widened to float32 at load)"))
    }

    /// Every weight of every f16 fixture, held in 16 bits and widened, is bitwise the tensor widened at
    /// load (the fused q/k/v rows included): the kernels see the same numbers.
    @Test(arguments: runnable + singleFiles)
    func everyWeightWidensToTheFloat32Tensor(_ name: String) throws {
        let weights = try ModelWeights.open(Fixture.path(name), precision: .asStored)
        var providers: [(any WeightProvider, [ParameterSpec])] = [(weights, weights.parameters)]
        if let text = weights.textEncoder { providers.append((text, CLIPTextLayout.parameters(text.config))) }
        var sixteenBit = 0
        for (provider, specs) in providers {
            for spec in specs {
                let held = try provider.weight(spec.name), wide = try provider.tensor(spec.name)
                sixteenBit += held.precision == .float16 ? 1 : 0
                let widened = Self.bits(try held.float32())
                #expect(held.shape == wide.shape && widened == Self.bits(wide), "\(name) \(spec.name)")
            }
        }
        #expect(sixteenBit > 0)
    }

    /// No silent down-conversion: a float32 file is held as float32 under either policy.
    @Test func float32FilesStayFloat32() throws {
        let weights = try ModelWeights.open(Fixture.path("models/sr_diffusers"), precision: .asStored)
        for spec in weights.parameters { #expect(try weights.weight(spec.name).precision == .float32, "\(spec.name)") }
        #expect(weights.memoryBytes == 4 * weights.parameterCount)
    }

    /// bfloat16 kept as bfloat16: a converted canonical file (`export` to bf16) gives the same bits
    /// held in 16 bits as widened at load.
    @Test func bfloat16StaysSixteenBitAndExact() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelWeights.open(Fixture.path("models/kl_inp_folder")).export(to: path, dtype: .bf16)
        let half = try ModelWeights.open(path, precision: .asStored), wide = try ModelWeights.open(path, precision: .float32)
        #expect(try half.parameters.filter { $0.shape.count > 1 }.allSatisfy { try half.weight($0.name).precision == .bfloat16 })
        #expect(try Self.outputs(half) == Self.outputs(wide))
    }

    @Test func theEnvironmentCanForceFloat32Only() {
        #expect(WeightPrecision.resolve(nil) == .asStored)
        #expect(WeightPrecision.resolve("float32") == .float32 && WeightPrecision.resolve("FLOAT32") == .float32)
        #expect(WeightPrecision.resolve("f16") == .asStored && WeightPrecision.resolve("") == .asStored)
        #expect(WeightPrecision.asStored.held(.f16) == .float16 && WeightPrecision.asStored.held(.bf16) == .bfloat16)
        #expect(WeightPrecision.asStored.held(.f32) == .float32 && WeightPrecision.asStored.held(.f64) == .float32)
        #expect(WeightPrecision.float32.held(.f16) == .float32)
    }

    /// Non-finite 16-bit weights are refused as before, counted on the stored bits.
    @Test func nonFiniteSixteenBitWeightsAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nan-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Fixture.path("models/sd_inpaint_folder"), toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/unet/diffusion_pytorch_model.safetensors"
        let source = try WeightFile.open(file)
        let key = "conv_in.weight", info = try #require(source.tensors[key])
        #expect(info.dtype == .f16)
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        let headerLength = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        // safetensors offsets count from the end of the header; TensorInfo's from the file's start.
        #expect(info.byteOffset > 8 + headerLength - 1)
        data[info.byteOffset + 2] = 0x00
        data[info.byteOffset + 3] = 0x7e  // element 1: a NaN
        try data.write(to: URL(fileURLWithPath: file))
        for precision in WeightPrecision.allCases {
            let weights = try ModelWeights.open(folder, precision: precision)
            let name = UNetLayout(weights.unet).convIn.weight.name
            #expect(throws: CheckpointError.nonFiniteWeights(path: folder, key: key, count: 1)) { try weights.weight(name) }
            #expect(throws: CheckpointError.nonFiniteWeights(path: folder, key: key, count: 1)) { try weights.tensor(name) }
        }
    }
}
