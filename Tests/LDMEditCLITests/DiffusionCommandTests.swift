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
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)), "same seed, same bytes")
        let c = try CLI.run(["upscale", input, "-o", scratch.file("c.png"), "--model", Self.parity("sr"), "--steps", "3"])
        #expect(c.stderr.contains("seed ") && c.stderr.contains("pass --seed"))
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
        let noModel = try CLI.run(["inpaint", input, "--mask", small])
        #expect(noModel.status == 64 && noModel.stderr.contains("--model is required"))
        let both = try CLI.run(["upscale", input, "--method", "bicubic", "--model", Self.parity("sr")])
        #expect(both.status == 64)
    }
}
