import Foundation
import LDMTensor
import Testing
@testable import LDMModels

@Suite struct ExportAndAuditTests {
    let folder = TemporaryFolder("ldm-export")
    var dir: String { folder.path }

    /// FIPS 180-4 / NIST CAVS examples.
    @Test func sha256Vectors() {
        func digest(_ s: String) -> String { var h = SHA256(); h.update(Array(s.utf8)); return h.finish() }
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { h.update(chunk) }  // one million 'a', fed in odd-sized pieces
        #expect(h.finish() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test(arguments: [SafetensorsWriter.OutputType.f32, .f16, .bf16])
    func exportRoundTrips(_ dtype: SafetensorsWriter.OutputType) throws {
        // The pipelines' CompVis checkpoint (EMA only, F16): the models' tiny ones have widths that
        // CompVis' 32 GroupNorm groups do not divide, which export refuses (HostileConfigTests).
        let original = try ModelWeights.open(Fixture.path("../../LDMPipelinesTests/Fixtures/inp_compvis.ckpt"))
        let out = dir + "/inp.\(dtype.rawValue).safetensors"
        try original.export(to: out, dtype: dtype)
        let back = try ModelWeights.open(out)
        #expect(back.layout == .canonical && back.unet == original.unet && back.firstStage == original.firstStage)
        #expect(back.schedule.linearEnd == original.schedule.linearEnd && back.schedule.source == "ldm-edit config")
        #expect(back.task == .inpainting)
        // f32 is exact; f16 keeps 11 significant bits and bf16 8 (relative rounding 2^-11, 2^-8).
        let bound: Float = dtype == .f32 ? 0 : dtype == .f16 ? 1.0 / 2048 : 1.0 / 256
        for spec in original.parameters {
            let a = try original.tensor(spec.name).values, b = try back.tensor(spec.name).values
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= bound * abs($0) + (dtype == .f16 ? 6e-8 : 0) }, "\(spec.name)")
        }
        #expect(FileManager.default.contentsOfDirectory(atPathOrEmpty: dir).allSatisfy { !$0.hasPrefix(".") }, "no temp files left")
    }

    /// One missing, one mis-shaped and one unexpected tensor: all three in one report.
    @Test func auditListsEveryProblemAtOnce() throws {
        let good = try ModelWeights.open(ModelWeightsTests.path("sr_diffusers"))
        var entries = good.parameters.map { ($0.name, $0.shape) }
        entries.removeAll { $0.0 == "unet.out.2.bias" }
        let i = try #require(entries.firstIndex { $0.0 == "vq.quant_conv.weight" })
        entries[i].1 = [3, 3, 1, 2]
        entries.append(("unet.extra.weight", [2]))
        let exported = dir + "/broken.safetensors"
        let encoder = JSONEncoder()
        let config = String(decoding: try encoder.encode(ModelWeights.CanonicalConfig(unet: good.unet, firstStage: good.firstStage, schedule: nil)), as: UTF8.self)
        try SafetensorsWriter.write(to: exported, entries: entries, dtype: .f32, metadata: [ModelWeights.canonicalConfigKey: config]) { name in
            let shape = entries.first { $0.0 == name }!.1
            return try Tensor.zeros(shape)
        }
        do {
            _ = try ModelWeights.open(exported)
            Issue.record("a broken file loaded")
        } catch {
            guard case .auditFailed(_, let audit) = error else { Issue.record("\(error)"); return }
            #expect(audit.missing.map(\.name) == ["unet.out.2.bias"])
            #expect(audit.mismatched == [.init(name: "vq.quant_conv.weight", expected: [3, 3, 1, 1], actual: [3, 3, 1, 2])])
            #expect(audit.unexpected == ["unet.extra.weight"])
            #expect(error.description.contains("1 missing:") && error.description.contains("expected [3, 3, 1, 1], got [3, 3, 1, 2]"))
        }
    }

    /// The error names the task the model serves; which command runs it is the CLI's to say
    /// (LDMEditCLITests check "use `ldm-edit upscale`").
    @Test func wrongTaskNamesTheTaskTheModelServes() throws {
        let path = ModelWeightsTests.path("sr_compvis.ckpt")
        let sr = try ModelWeights.open(path)
        #expect(throws: Never.self) { try sr.require(task: .superResolution) }
        #expect(throws: CheckpointError.wrongTask(path: path, found: .superResolution, expected: .inpainting)) {
            try sr.require(task: .inpainting)
        }
        let description = CheckpointError.wrongTask(path: path, found: .superResolution, expected: .inpainting).description
        #expect(description == "\(path): this is a super-resolution model, not inpainting")
    }
}

extension FileManager {
    func contentsOfDirectory(atPathOrEmpty path: String) -> [String] { (try? contentsOfDirectory(atPath: path)) ?? [] }
}
