import Foundation
import LDMImageIO
import Testing

/// `upscale --model` and `inpaint` through the binary, on the tiny parity models
/// (Tests/LDMModelsTests/Fixtures/parity; their 2-level VQ is f2, so "4x" is 2x for them).
@Suite struct DiffusionCommandTests {
    let scratch = Scratch()
    static func parity(_ kind: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/parity/" + kind) }

    func writeImage(_ name: String, width: Int, height: Int, channels: Int, depth: Int) throws -> String {
        let count = width * height * channels
        let samples: RasterImage.Samples = depth == 8
            ? .uint8((0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) })
            : .uint16((0..<count).map { UInt16(truncatingIfNeeded: $0 * 9973 + 5) })
        let path = scratch.file(name)
        try ImageFile.write(try RasterImage(width: width, height: height, channels: channels, samples: samples), to: path)
        return path
    }

    @Test func upscaleWithAModelIsSeededAndKeepsTheLayout() throws {
        let input = try writeImage("rgba16.png", width: 13, height: 9, channels: 4, depth: 16)
        let a = scratch.file("a.png"), b = scratch.file("b.png")
        for out in [a, b] {
            let r = try CLI.run(["upscale", input, "-o", out, "--model", Self.parity("sr"), "--steps", "3", "--seed", "7", "--eta", "1"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let result = try ImageFile.read(a)
        // Odd sizes are reflect-padded for the U-Net and cropped back: exactly the model's factor.
        #expect(result.width == 26 && result.height == 18 && result.channels == 4 && result.bitDepth == 16)
        // Pixels, not file bytes: the embedded provenance records the time of writing.
        #expect(try ImageFile.read(a).samples == ImageFile.read(b).samples, "same seed, same pixels")
        let c = try CLI.run(["upscale", input, "-o", scratch.file("c.png"), "--model", Self.parity("sr"), "--steps", "3"])
        #expect(c.stderr.contains("seed ") && c.stderr.contains("pass --seed"))
    }

    /// `--half-weights` on a float32 model: the run records it in the provenance options and in the resume key
    /// (narrowed weights give other numbers), and without the flag neither appears.
    @Test func halfWeightsAreRecorded() throws {
        let input = try writeImage("half.png", width: 16, height: 12, channels: 3, depth: 8)
        let model = CLI.sample("Tests/LDMModelsTests/Fixtures/models/sr_diffusers")  // stored float32
        var provenance: [[String: Any]] = []
        for (name, flags) in [("half.png", ["--half-weights"]), ("full.png", [])] {
            let out = scratch.file("out-" + name)
            let r = try CLI.run(["upscale", input, "-o", out, "--model", model, "--steps", "2", "--seed", "1"] + flags)
            #expect(r.status == 0, "\(r.stderr)")
            let info = try CLI.run(["info", out, "--json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
            provenance.append(try #require(json["provenance"] as? [String: Any]))
        }
        #expect((provenance[0]["options"] as? [String: String])?["weights_precision"] == "float16")
        #expect((provenance[1]["options"] as? [String: String])?["weights_precision"] == nil)
        #expect(provenance[0]["key"] as? String != provenance[1]["key"] as? String)
    }

    @Test func inpaintCopiesUnmaskedPixelsExactly() throws {
        let input = try writeImage("photo.png", width: 16, height: 12, channels: 3, depth: 8)
        var mask = [UInt8](repeating: 0, count: 16 * 12)
        for y in 3..<9 { for x in 2..<7 { mask[y * 16 + x] = 255 } }
        let maskPath = scratch.file("mask.png")
        try ImageFile.write(try RasterImage(width: 16, height: 12, channels: 1, samples: .uint8(mask)), to: maskPath)
        let out = scratch.file("out.png")
        let r = try CLI.run(["inpaint", input, "--mask", maskPath, "--model", Self.parity("inp"), "--steps", "3", "--seed", "1", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let source = try ImageFile.read(input), result = try ImageFile.read(out)
        #expect(result.width == 16 && result.height == 12 && result.channels == 3)
        var changed = 0
        for y in 0..<12 {
            for x in 0..<16 {
                for c in 0..<3 {
                    let same = source.sample(x: x, y: y, channel: c) == result.sample(x: x, y: y, channel: c)
                    if mask[y * 16 + x] == 0 { #expect(same, "unmasked pixel (\(x), \(y)) changed") } else if !same { changed += 1 }
                }
            }
        }
        #expect(changed > 0, "the masked region was repainted")
    }

    /// LDM inpainting runs DPM-Solver++(2M) Karras at 15 steps unless told otherwise (`SamplingDefault`); a named
    /// sampler without --steps gets the common 50, --steps alone keeps the default sampler.
    @Test func inpaintDefaultsToDPMSolverKarras15() throws {
        let input = try writeImage("d.png", width: 16, height: 16, channels: 3, depth: 8)
        var mask = [UInt8](repeating: 0, count: 16 * 16)
        for y in 4..<12 { for x in 4..<12 { mask[y * 16 + x] = 255 } }
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 1, samples: .uint8(mask)), to: scratch.file("dm.png"))
        for (extra, expected) in [([String](), "sampler: dpmpp-2m-karras, 15 steps"), (["--sampler", "ddim"], "sampler: ddim, 50 steps, eta 0.0"),
                                  (["--steps", "3"], "sampler: dpmpp-2m-karras, 3 steps")] {
            let out = scratch.file("d-\(extra.joined()).png")
            let r = try CLI.run(["inpaint", input, "--mask", scratch.file("dm.png"), "--model", Self.parity("inp"), "--seed", "1", "-o", out, "-q"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let info = try CLI.run(["info", out]).stdout
            #expect(info.contains(expected), "\(extra): \(info)")
        }
    }

    /// `--guide-model`: a model guided by itself fills as it does alone (p_guide + w·0), the run records the guide
    /// (info, and the resume key: the guide's weight changes it); a guide of another task, a weight without a guide
    /// or out of bounds, and a guide without a diffusion model are refused before anything is written.
    @Test func inpaintWithAGuideModel() throws {
        let input = try writeImage("g.png", width: 16, height: 16, channels: 3, depth: 8)
        var mask = [UInt8](repeating: 0, count: 16 * 16)
        for y in 4..<12 { for x in 4..<12 { mask[y * 16 + x] = 255 } }
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 1, samples: .uint8(mask)), to: scratch.file("gm.png"))
        let base = ["inpaint", input, "--mask", scratch.file("gm.png"), "--model", Self.parity("inp"), "--seed", "1", "--steps", "3", "-q"]
        var keys: [String] = []
        for (name, extra) in [("alone", [String]()), ("self2", ["--guide-model", Self.parity("inp"), "--guide-weight", "2"]),
                              ("self3", ["--guide-model", Self.parity("inp"), "--guide-weight", "3"])] {
            let r = try CLI.run(base + ["-o", scratch.file("\(name).png")] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let info = try CLI.run(["info", scratch.file("\(name).png"), "--json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
            keys.append(try #require((json["provenance"] as? [String: Any])?["key"] as? String))
        }
        #expect(try ImageFile.read(scratch.file("alone.png")).samples == ImageFile.read(scratch.file("self2.png")).samples)
        #expect(Set(keys).count == 3, "the guide and its weight enter the resume key")
        let info = try CLI.run(["info", scratch.file("self2.png")]).stdout
        #expect(info.contains("guide model: inp, weight 2.0"), "\(info)")
        let wrongTask = try CLI.run(base + ["-o", scratch.file("x.png"), "--guide-model", Self.parity("sr")])
        #expect(wrongTask.status == 1 && wrongTask.stderr.contains("cannot guide this model"), "\(wrongTask.stderr)")
        let noGuide = try CLI.run(base + ["-o", scratch.file("x.png"), "--guide-weight", "2"])
        #expect(noGuide.status == 64 && noGuide.stderr.contains("--guide-weight needs --guide-model"))
        let tooHard = try CLI.run(base + ["-o", scratch.file("x.png"), "--guide-model", Self.parity("inp"), "--guide-weight", "12"])
        #expect(tooHard.status == 64 && tooHard.stderr.contains("--guide-weight must be 0-10"))
        let classical = try CLI.run(["upscale", input, "--method", "bicubic", "--guide-model", Self.parity("sr"), "-o", scratch.file("x.png")])
        #expect(classical.status == 64 && classical.stderr.contains("--guide-model needs a diffusion model"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("x.png")))
    }

    @Test func inpaintErrors() throws {
        let input = try writeImage("p.png", width: 16, height: 16, channels: 3, depth: 8)
        let small = try writeImage("m.png", width: 8, height: 8, channels: 1, depth: 8)
        let mismatch = try CLI.run(["inpaint", input, "--mask", small, "--model", Self.parity("inp"), "--steps", "2", "-o", scratch.file("o.png")])
        #expect(mismatch.status == 1 && mismatch.stderr.contains("pass --mask-resize"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("o.png")))
        let resized = try CLI.run(["inpaint", input, "--mask", small, "--mask-resize", "--model", Self.parity("inp"), "--steps", "2",
                                   "-o", scratch.file("o.png")])
        #expect(resized.status == 0, "\(resized.stderr)")
        let wrongTask = try CLI.run(["inpaint", input, "--mask", small, "--model", Self.parity("sr"), "-o", scratch.file("w.png")])
        #expect(wrongTask.status == 1 && wrongTask.stderr.contains("this is a super-resolution model") && wrongTask.stderr.contains("ldm-edit upscale"))
        // A copy of the binary run outside the source tree, whose Models/ ships a default: nothing but $LDM_EDIT_MODELS.
        try FileManager.default.createDirectory(atPath: scratch.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.binary.path, toPath: scratch.file("bin/ldm-edit"))
        let isolated = URL(fileURLWithPath: scratch.file("bin/ldm-edit"))
        let noModel = try CLI.run(["inpaint", input, "--mask", small, "--mask-resize"], in: scratch.path,
                                  environment: ["LDM_EDIT_MODELS": scratch.path], executable: isolated)
        #expect(noModel.status == 1 && noModel.stderr.contains("no inpainting model: pass --model, or put ldm-edit-inpaint.safetensors in one of: \(scratch.path)"))
        try FileManager.default.createDirectory(atPath: scratch.file("training"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: scratch.file("training/ldm-edit-inpaint.safetensors"), contents: Data())
        let unfinished = try CLI.run(["inpaint", input, "--mask", small, "--mask-resize"], in: scratch.path,
                                     environment: ["LDM_EDIT_MODELS": scratch.path], executable: isolated)
        #expect(unfinished.status == 1 && unfinished.stderr.contains(
            "hint: one still in training, short of its quality targets (docs/models.md), is at \(scratch.file("training/ldm-edit-inpaint.safetensors"))"))
        let both = try CLI.run(["upscale", input, "--method", "bicubic", "--model", Self.parity("sr")])
        #expect(both.status == 64)
    }
}

/// Default models: without --model, ldm-edit looks in $LDM_EDIT_MODELS (then share/, the source
/// tree's Models/, ./Models) for ldm-edit-sr.safetensors / ldm-edit-inpaint.safetensors.
@Suite struct DefaultModelTests {
    let scratch = Scratch()

    @Test func defaultModelsAreFoundThroughTheEnvironment() throws {
        let convert = try CLI.run(["convert", DiffusionCommandTests.parity("sr"), scratch.file("ldm-edit-sr.safetensors"), "--dtype", "f16"])
        #expect(convert.status == 0, "\(convert.stderr)")
        let input = scratch.file("in.png")
        try ImageFile.write(try RasterImage(width: 8, height: 8, channels: 3, samples: .uint8((0..<192).map { UInt8($0) })), to: input)
        // The tiny model's VQ is f2: a diffusion result is 2x, the classical fallback 4x.
        let withDefault = try CLI.run(["upscale", input, "-o", scratch.file("d.png"), "--steps", "2", "--seed", "1"],
                                      environment: ["LDM_EDIT_MODELS": scratch.path])
        #expect(withDefault.status == 0, "\(withDefault.stderr)")
        #expect(try ImageFile.read(scratch.file("d.png")).width == 16)
        let classical = try CLI.run(["upscale", input, "-o", scratch.file("c.png"), "--method", "lanczos"],
                                    environment: ["LDM_EDIT_MODELS": scratch.path])
        #expect(classical.status == 0)
        #expect(try ImageFile.read(scratch.file("c.png")).width == 32)
    }
}

/// The acceptance run: `ldm-edit inpaint` on a CompVis-layout .ckpt against the inpaint.py recipe
/// (Tests/LDMPipelinesTests/Fixtures, Scripts/fixtures/make_pipeline_fixtures.py): masked pixels equal the
/// reference's float result rounded (ldm-edit rounds where inpaint.py truncates), ±1 on ≤ 0.1 %;
/// unmasked pixels are the source's.
@Suite struct InpaintAcceptanceTests {
    let scratch = Scratch()

    @Test func inpaintOnACompVisCheckpointMatchesTheRecipe() throws {
        let fixtures = CLI.sample("Tests/LDMPipelinesTests/Fixtures")
        let reference = try SafetensorsReader.load(fixtures + "/pipelines.safetensors")
        let side = Int(sqrt(Double(reference["inp_mask_u8"]!.count)))
        let image = reference["inp_image_u8"]!.map { UInt8($0) }          // NHWC = interleaved RGB
        let mask = reference["inp_mask_u8"]!.map { UInt8($0) }
        try ImageFile.write(try RasterImage(width: side, height: side, channels: 3, samples: .uint8(image)), to: scratch.file("img.png"))
        try ImageFile.write(try RasterImage(width: side, height: side, channels: 1, samples: .uint8(mask)), to: scratch.file("mask.png"))
        let out = scratch.file("out.png")
        let r = try CLI.run(["inpaint", scratch.file("img.png"), "--mask", scratch.file("mask.png"), "--model", fixtures + "/inp_compvis.ckpt",
                             "--sampler", "ddim", "--steps", "10", "--seed", "43", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try ImageFile.read(out)
        guard case .uint8(let got) = result.samples else { Issue.record("not 8-bit"); return }
        let expected = reference["inp_float"]!.map { Int(($0 * 255).rounded(.toNearestOrEven)) }
        var differ = 0
        for p in 0..<(side * side) {
            for c in 0..<3 {
                let i = p * 3 + c
                if mask[p] == 0 {
                    #expect(got[i] == image[i])
                } else if abs(Int(got[i]) - expected[i]) > 0 {
                    differ += 1
                    #expect(abs(Int(got[i]) - expected[i]) <= 1)
                }
            }
        }
        #expect(differ * 1000 <= got.count, "\(differ) values differ")
    }
}

/// Minimal reader for the F32 safetensors fixtures (the CLI tests do not link LDMModels' internals).
enum SafetensorsReader {
    static func load(_ path: String) throws -> [String: [Float]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] ?? [:]
        var out: [String: [Float]] = [:]
        for (name, value) in header {
            guard let entry = value as? [String: Any], let offsets = entry["data_offsets"] as? [Int] else { continue }
            let bytes = data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))
            out[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return out
    }
}
