import Foundation
import LDMTensor
import Testing
@testable import LDMModels

/// Fixtures: Tests/LDMModelsTests/Fixtures, made by Scripts/fixtures/make_checkpoint_fixtures.py (torch 2.15.0,
/// safetensors 0.8.0; versions.json). `expected.safetensors` holds every float tensor as written
/// by torch, contiguous F32: each format must load to exactly those values.
enum Fixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { folder + "/" + name }
    static let expected: SafetensorsFile = {
        // The fixture is committed and checked by these very tests; failing to open it fails them.
        do { return try SafetensorsFile(path: path("expected.safetensors")) } catch { preconditionFailure("\(error)") }
    }()

    static func expectedValues(_ name: String) throws -> [Float] { try expected.load(name).values }
}

@Suite struct CheckpointReaderTests {
    static let base = ["input_blocks.0.0.weight", "input_blocks.0.0.bias", "time_embed.0.weight", "scale"]

    @Test(arguments: ["f32", "f16", "bf16"])
    func safetensorsDtypesLoadToTheReferenceValues(_ dtype: String) throws {
        let file = try WeightFile.open(Fixture.path("tiny_\(dtype).safetensors"))
        #expect(file.format == "safetensors")
        #expect(file.metadata["made_by"] == "make_checkpoint_fixtures.py")
        #expect(Set(file.names) == Set(Self.base))
        for name in Self.base {
            let t = try file.load(name)
            #expect(t.shape == Fixture.expected.tensors["\(dtype)/\(name)"]?.shape)
            #expect(t.values == (try Fixture.expectedValues("\(dtype)/\(name)")), "\(name)")
            #expect(file.tensors[name]?.dtype.rawValue == dtype.uppercased())
        }
        #expect(try file.load("scale").shape == [])
    }

    @Test func torchSaveHonoursStridesOffsetsAndDtypes() throws {
        let file = try WeightFile.open(Fixture.path("tiny_state_dict.bin"))
        #expect(file.format == "pytorch-zip")
        for name in Self.base { #expect(try file.load(name).values == (try Fixture.expectedValues("f32/\(name)"))) }
        for name in ["transposed", "slice_a", "slice_b", "half"] {
            #expect(try file.load(name).values == (try Fixture.expectedValues("bin/\(name)")), "\(name)")
        }
        #expect(file.tensors["transposed"]?.strides == [1, 7])
        #expect(file.tensors["slice_a"]?.storage == file.tensors["slice_b"]?.storage, "slices share one storage")
        #expect(file.tensors["steps"]?.dtype == .i64)
        #expect(throws: CheckpointError.unsupportedDType(path: Fixture.path("tiny_state_dict.bin"), key: "steps", dtype: "I64")) {
            _ = try file.load("steps")
        }
    }

    @Test func lightningCheckpointExposesItsStateDict() throws {
        let path = Fixture.path("tiny_lightning.ckpt")
        let file = try #require(try WeightFile.open(path) as? TorchCheckpoint)
        #expect(file.otherTopLevelKeys == ["callbacks", "epoch", "global_step", "hyper_parameters", "optimizer_states"])
        let floats = file.names.filter { file.tensors[$0]!.dtype.isFloatingPoint }
        for name in floats { #expect(try file.load(name).values == (try Fixture.expectedValues("ckpt/\(name)")), "\(name)") }
        #expect(file.tensors["model_ema.diffusion_modelinput_blocks00weight"] != nil)
        #expect(file.tensors["model_ema.num_updates"]?.dtype == .i32)
        let raw = try file.load("model.diffusion_model.input_blocks.0.0.weight").values
        let ema = try file.load("model_ema.diffusion_modelinput_blocks00weight").values
        #expect(zip(raw, ema).allSatisfy { $1 == $0 + 1 }, "EMA weights are distinct tensors")
        let first = file.tensors["first_stage_model.encoder.conv_in.weight"]
        let cond = file.tensors["cond_stage_model.encoder.conv_in.weight"]
        #expect(first?.byteOffset == cond?.byteOffset && first?.storage == cond?.storage, "duplicates share bytes")
    }

    /// A state dict with an extra entry that unpickles as `os.system("touch ...")`: the tensor loads,
    /// the call stays an inert placeholder, and the marker file is never created.
    @Test func maliciousPicklesRunNothing() throws {
        let marker = "/tmp/ldm-edit-fixture-pwned"
        unlink(marker)
        let file = try WeightFile.open(Fixture.path("malicious_reduce.bin"))
        #expect(file.names == ["weight"])
        #expect(try file.load("weight").values == [1, 1, 1, 1])
        #expect(throws: CheckpointError.notAStateDict(path: Fixture.path("malicious_toplevel.bin"), found: "object posix.system")) {
            _ = try WeightFile.open(Fixture.path("malicious_toplevel.bin"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func textModeInstOpcodeIsRefused() {
        do {
            _ = try WeightFile.open(Fixture.path("protocol0_inst.bin"))
            Issue.record("INST accepted")
        } catch {
            #expect(error.description.contains("opcode 0x69"), "\(error)")
        }
    }

    @Test func unknownAndLegacyFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.ckpt").path
        try Data("just some text, not weights".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: CheckpointError.self) { _ = try WeightFile.open(text) }
        let legacy = dir.appendingPathComponent("old.pt").path
        try Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8]).write(to: URL(fileURLWithPath: legacy))
        do {
            _ = try WeightFile.open(legacy)
            Issue.record("legacy accepted")
        } catch {
            #expect(error.description.contains("legacy"))
        }
        #expect(throws: CheckpointError.unreadable(path: dir.path + "/missing.ckpt", reason: "No such file or directory")) {
            _ = try WeightFile.open(dir.path + "/missing.ckpt")
        }
    }
}
