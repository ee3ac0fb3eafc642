import Foundation
import LDMImageIO
import Testing

/// `upscale --prompt/--noise-level` through the binary on the small x4-upscaler fixture
/// (Tests/LDMModelsTests/Fixtures/models/sd_upscale_folder; make_sd_upscale_fixtures.py).
@Suite struct UpscalerCommandTests {
    let scratch = Scratch()
    static func fixture(_ name: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/models/" + name) }

    func input(width w: Int = 20, height h: Int = 12) throws -> String {
        let image = scratch.file("low.png")
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 3, samples: .uint8((0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 5 + 40) })),
                            to: image)
        return image
    }

    @Test func upscalesWithAPromptAndRecordsItsSettings() throws {
        let image = try input()
        let out = scratch.file("out.png")
        let r = try CLI.run(["upscale", image, "--model", Self.fixture("sd_upscale_folder"), "--prompt", "a white cat", "--negative-prompt", "blurry",
                             "--noise-level", "40", "--steps", "2", "--seed", "3", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try ImageFile.read(out)
        #expect(result.width == 80 && result.height == 48)
        let info = try CLI.run(["info", out])
        #expect(info.stdout.contains("prompt: \"a white cat\"") && info.stdout.contains("negative prompt: \"blurry\"")
                && info.stdout.contains("guidance: 9.0") && info.stdout.contains("noise level: 40") && info.stdout.contains("sampler: ddim"),
                "\(info.stdout)")
        // Without --prompt: the empty prompt, noise level 20, guidance 9 (diffusers' defaults).
        let plain = scratch.file("plain.png")
        let d = try CLI.run(["upscale", image, "--model", Self.fixture("sd_upscale_folder"), "--steps", "1", "--seed", "3", "-o", plain])
        #expect(d.status == 0, "\(d.stderr)")
        let plainInfo = try CLI.run(["info", plain])
        #expect(plainInfo.stdout.contains("prompt: \"\"") && plainInfo.stdout.contains("noise level: 20") && plainInfo.stdout.contains("guidance: 9.0"),
                "\(plainInfo.stdout)")
    }

    @Test func refusalsNameTheFlag() throws {
        let image = try input()
        let x4 = Self.fixture("sd_upscale_folder")
        let high = try CLI.run(["upscale", image, "--model", x4, "--noise-level", "351", "-o", scratch.file("a.png")])
        #expect(high.status == 64 && high.stderr.contains("--noise-level must be 0-350"), "\(high.stderr)")
        let ldm = Self.fixture("conv_sr_folder")
        let text = try CLI.run(["upscale", image, "--model", ldm, "--prompt", "a cat", "-o", scratch.file("b.png")])
        #expect(text.status == 64 && text.stderr.contains("reads no text"), "\(text.stderr)")
        let level = try CLI.run(["upscale", image, "--model", ldm, "--noise-level", "20", "-o", scratch.file("c.png")])
        #expect(level.status == 64 && level.stderr.contains("--noise-level applies to the Stable Diffusion x4 upscaler only"), "\(level.stderr)")
        let classical = try CLI.run(["upscale", image, "--method", "bicubic", "--prompt", "a cat", "-o", scratch.file("d.png")])
        #expect(classical.status == 64 && classical.stderr.contains("--prompt needs a diffusion model"), "\(classical.stderr)")
        let tooLong = try CLI.run(["upscale", image, "--model", x4, "--prompt", Array(repeating: "cat", count: 80).joined(separator: " "),
                                   "-o", scratch.file("e.png")])
        #expect(tooLong.status == 64 && tooLong.stderr.contains("--prompt is 82 tokens"), "\(tooLong.stderr)")
    }

    @Test func inspectNamesTheFamily() throws {
        let r = try CLI.run(["inspect", Self.fixture("sd_upscale_folder")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Stable Diffusion x4 upscaler") && r.stdout.contains("KL-f4") && r.stdout.contains("scaled by 0.08333")
                && r.stdout.contains("noise augmentation: the low-res input noised to a level of 0-350 (default 20)"), "\(r.stdout)")
    }
}
