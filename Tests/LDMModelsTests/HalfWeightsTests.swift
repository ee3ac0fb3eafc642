import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// `WeightPrecision.float16`: float32 checkpoints narrowed to float16 at load (what `--half-weights` asks for).
/// Every matrix is held in 16 bits and equals the float32 tensor rounded to the nearest float16; the 1-D
/// parameters stay float32; 16-bit files are unaffected (bit for bit as stored); values beyond float16's range
/// are refused with the tensor's name instead of becoming infinities.
@Suite struct HalfWeightsTests {
    static let float32Model = "models/sr_diffusers"

    @Test func float32MatricesAreRoundedToTheNearestFloat16() throws {
        let path = Fixture.path(Self.float32Model)
        let half = try ModelWeights.open(path, precision: .float16), wide = try ModelWeights.open(path, precision: .float32)
        let matrices = half.parameters.filter { $0.shape.count > 1 }
        #expect(!matrices.isEmpty)
        var rounded = 0
        for spec in matrices {
            let held = try half.weight(spec.name), exact = try wide.tensor(spec.name)
            #expect(held.precision == .float16, "\(spec.name)")
            let narrowed = try held.float32().values, reference = exact.values.map { Float(Float16($0)) }
            #expect(narrowed.map(\.bitPattern) == reference.map(\.bitPattern), "\(spec.name)")
            rounded += zip(narrowed, exact.values).filter { $0 != $1 }.count
        }
        #expect(rounded > 0, "a float32 fixture whose weights were all float16-exact proves nothing")
        let vectors = half.parameters.filter { $0.shape.count == 1 }.reduce(0) { $0 + 4 * $1.shape.reduce(1, *) }
        #expect(half.memoryBytes == vectors + 2 * matrices.reduce(0) { $0 + $1.shape.reduce(1, *) })
        #expect(wide.memoryBytes == 4 * wide.parameterCount)
    }

    /// The model runs on the narrowed weights, close to float32 (the rounding of ~1e-3 relative per weight) but not
    /// equal; a 16-bit file gives exactly its as-stored outputs.
    @Test func narrowedModelsRunAndSixteenBitFilesAreUnchanged() throws {
        let f32 = Fixture.path(Self.float32Model)
        let half = try WeightPrecisionTests.outputs(try ModelWeights.open(f32, precision: .float16))
        let wide = try WeightPrecisionTests.outputs(try ModelWeights.open(f32, precision: .asStored))
        let a = half["unet"] ?? [], b = wide["unet"] ?? []
        #expect(a.count == b.count && a != b)
        let diff = zip(a, b).map { abs(Float(bitPattern: $0) - Float(bitPattern: $1)) }.max() ?? 1
        let scale = b.map { abs(Float(bitPattern: $0)) }.max() ?? 1
        #expect(diff <= 2e-2 * max(1, scale), "U-Net output moved by \(diff) (scale \(scale))")

        let f16 = Fixture.path("models/sd_inpaint_folder")
        #expect(try WeightPrecisionTests.outputs(try ModelWeights.open(f16, precision: .float16))
                == WeightPrecisionTests.outputs(try ModelWeights.open(f16, precision: .asStored)))
        #expect(WeightPrecision.float16.held(.f32) == .float16 && WeightPrecision.float16.held(.bf16) == .float16
                && WeightPrecision.float16.held(.f64) == .float16 && WeightPrecision.float16.held(.f16) == .float16)
    }

    @Test func valuesBeyondFloat16AreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("half-range-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Fixture.path(Self.float32Model), toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/unet/diffusion_pytorch_model.safetensors"
        let source = try WeightFile.open(file)
        let key = "conv_in.weight", info = try #require(source.tensors[key])
        #expect(info.dtype == .f32)
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        withUnsafeBytes(of: Float(1e5).bitPattern.littleEndian) { bytes in
            for (i, b) in bytes.enumerated() { data[info.byteOffset + 4 + i] = b }  // element 1
        }
        try data.write(to: URL(fileURLWithPath: file))
        let weights = try ModelWeights.open(folder, precision: .float16)
        let name = UNetLayout(weights.unet).convIn.weight.name
        #expect(throws: CheckpointError.halfRange(path: file, key: key, count: 1, largest: 1e5)) { try weights.weight(name) }
        // As stored, the value is an ordinary float32 weight.
        #expect(try ModelWeights.open(folder, precision: .asStored).weight(name).precision == .float32)
    }
}
