import Foundation
import LDMImageIO
import Testing

/// `inpaint --prompt` through the binary on the small Stable Diffusion inpainting fixture
/// (Tests/LDMModelsTests/Fixtures/models/sd_inpaint_folder and its CompVis single file; make_sd_inpaint_fixtures.py).
@Suite struct StableDiffusionCommandTests {
    let scratch = Scratch()
    static func fixture(_ name: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/models/" + name) }

    func inputs() throws -> (image: String, mask: String) {
        let (w, h) = (48, 32)
        let image = scratch.file("photo.png"), mask = scratch.file("mask.png")
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 3, samples: .uint8((0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) })), to: image)
        var m = [UInt8](repeating: 0, count: w * h)
        for y in 8..<20 { for x in 10..<30 { m[y * w + x] = 255 } }
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 1, samples: .uint8(m)), to: mask)
        return (image, mask)
    }

    /// Values of `out` that differ from `image` outside and inside the mask of `inputs()`.
    func changed(_ image: String, _ out: String) throws -> (outside: Int, inside: Int) {
        let source = try ImageFile.read(image), result = try ImageFile.read(out)
        var outside = 0, inside = 0
        for y in 0..<32 {
            for x in 0..<48 {
                let masked = (8..<20).contains(y) && (10..<30).contains(x)
                for c in 0..<3 where source.sample(x: x, y: y, channel: c) != result.sample(x: x, y: y, channel: c) {
                    if masked { inside += 1 } else { outside += 1 }
                }
            }
        }
        return (outside, inside)
    }

    @Test func inpaintsWithAPromptAndRecordsIt() throws {
        let (image, mask) = try inputs()
        let out = scratch.file("out.png")
        let r = try CLI.run(["inpaint", image, "--mask", mask, "--model", Self.fixture("sd_inpaint_folder"), "--prompt", "a red brick wall",
                             "--negative-prompt", "blurry", "--steps", "3", "--seed", "5", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let (unmaskedChanged, maskedChanged) = try changed(image, out)
        #expect(unmaskedChanged == 0 && maskedChanged > 0)
        let info = try CLI.run(["info", out])
        #expect(info.stdout.contains("prompt: \"a red brick wall\"") && info.stdout.contains("negative prompt: \"blurry\"")
                && info.stdout.contains("guidance: 7.5") && info.stdout.contains("sampler: pndm"), "\(info.stdout)")
    }

    @Test func promptsAreRefusedWhereTheyDoNotFit() throws {
        let (image, mask) = try inputs()
        let sd = Self.fixture("sd_inpaint_folder")
        let none = try CLI.run(["inpaint", image, "--mask", mask, "--model", sd, "--seed", "1", "-o", scratch.file("a.png")])
        #expect(none.status == 64 && none.stderr.contains("pass --prompt"), "\(none.stderr)")
        let long = Array(repeating: "cat", count: 80).joined(separator: " ")
        let tooLong = try CLI.run(["inpaint", image, "--mask", mask, "--model", sd, "--prompt", long, "--seed", "1", "-o", scratch.file("b.png")])
        #expect(tooLong.status == 64 && tooLong.stderr.contains("--prompt is 82 tokens") && tooLong.stderr.contains("5 too many"), "\(tooLong.stderr)")
        let ldm = try CLI.run(["inpaint", image, "--mask", mask, "--model", Self.fixture("conv_inp_folder"), "--prompt", "x", "-o", scratch.file("c.png")])
        #expect(ldm.status == 64 && ldm.stderr.contains("Stable Diffusion models only"), "\(ldm.stderr)")
        let orphan = try CLI.run(["inpaint", image, "--mask", mask, "--model", sd, "--guidance", "3", "-o", scratch.file("d.png")])
        #expect(orphan.status == 64 && orphan.stderr.contains("--guidance needs --prompt"), "\(orphan.stderr)")
        let coarse = try CLI.run(["inpaint", image, "--mask", mask, "--model", sd, "--prompt", "x", "--hole-limit", "32", "-o", scratch.file("e.png")])
        #expect(coarse.status == 64 && coarse.stderr.contains("--hole-limit applies to the LDM inpainting models only"), "\(coarse.stderr)")
        for path in ["a.png", "b.png", "c.png", "d.png", "e.png"] { #expect(!FileManager.default.fileExists(atPath: scratch.file(path))) }
    }

    @Test func inspectNamesTheFamilyAndTheTextEncoder() throws {
        for (model, tokenizer) in [("sd_inpaint_folder", "embedded CLIP vocabulary"), ("sd_inpaint_compvis.safetensors", "embedded CLIP vocabulary")] {
            let r = try CLI.run(["inspect", Self.fixture(model), "--no-hash"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("use `ldm-edit inpaint`") && r.stdout.contains("Stable Diffusion 1.x") && r.stdout.contains("text encoder: CLIP (quick-GELU), width 16")
                    && r.stdout.contains(tokenizer) && r.stdout.contains("prediction: ε (noise; diffusers prediction_type epsilon)"), "\(r.stdout)")
        }
    }

    /// SD 2.x inpainting (make_sd_inpaint_fixtures.py --family sd2), both forms: named as such, and `inpaint` runs them.
    @Test func stableDiffusion2InpaintingRuns() throws {
        let (image, mask) = try inputs()
        for (model, suffix) in [("sd2_inpaint_folder", "a"), ("sd2_inpaint_compvis.safetensors", "b")] {
            let r = try CLI.run(["inspect", Self.fixture(model), "--no-hash"])
            #expect(r.status == 0 && r.stdout.contains("family: Stable Diffusion 2.x inpainting U-Net") && r.stdout.contains("text encoder: OpenCLIP")
                    && r.stdout.contains("padded with \"!\"") && r.stdout.contains("prediction: ε"), "\(r.stdout)")
            let out = scratch.file("sd2-\(suffix).png")
            let run = try CLI.run(["inpaint", image, "--mask", mask, "--model", Self.fixture(model), "--prompt", "a red brick wall",
                                   "--steps", "2", "--sampler", "ddim", "--seed", "1", "-o", out])
            #expect(run.status == 0, "\(run.stderr)")
            let (unmaskedChanged, maskedChanged) = try changed(image, out)
            #expect(unmaskedChanged == 0 && maskedChanged > 0)
        }
    }

    @Test func aTextToImageModelInpaintsByBlendingWithAWarning() throws {
        // sd_inpaint_folder with the 4-channel (text-to-image) U-Net of make_sd_inpaint_fixtures.py.
        let model = scratch.file("sd_blend")
        try FileManager.default.copyItem(atPath: Self.fixture("sd_inpaint_folder"), toPath: model)
        try FileManager.default.removeItem(atPath: model + "/unet")
        try FileManager.default.copyItem(atPath: Self.fixture("sd_blend_unet"), toPath: model + "/unet")
        let inspect = try CLI.run(["inspect", model, "--no-hash"])
        #expect(inspect.status == 0 && inspect.stdout.contains("inpainting: blended") && inspect.stdout.contains("use `ldm-edit inpaint`"), "\(inspect.stdout)")
        let (image, mask) = try inputs()
        let out = scratch.file("blend.png")
        let r = try CLI.run(["inpaint", image, "--mask", mask, "--model", model, "--prompt", "a wall", "--sampler", "euler-a", "--steps", "3",
                             "--seed", "2", "-o", out])
        #expect(r.status == 0 && r.stderr.contains("a text-to-image model, not an inpainting one") && r.stderr.contains("9 U-Net input channels"),
                "\(r.stderr)")
        let (unmaskedChanged, maskedChanged) = try changed(image, out)
        #expect(unmaskedChanged == 0 && maskedChanged > 0)
    }
}
