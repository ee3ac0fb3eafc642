import Foundation
import LDMImageIO
import Testing

@Suite struct InpaintEndToEndTests {
    let scratch = Scratch()

    /// Without --model, the bundled inpainting model (Models/ldm-edit-inpaint.safetensors) fills, at its own defaults
    /// (8 candidates blended, `Candidates.modelDefault`): the provenance names the model and the plan, pixels outside
    /// the hole are the photo's, and the hole lands nearer the photo than a fill of the surround's mean colour — which
    /// a wrong colour, noise or a fill of the wrong place would not (measured when it shipped, on this crop of
    /// Samples/chelsea.png: 19.0 dB at seed 1 against 17.4 dB).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: CLI.sample("Models/ldm-edit-inpaint.safetensors"))))
    func theBundledModelIsTheDefault() throws {
        let photo = try ImageFile.read(CLI.sample("Samples/chelsea.png"))
        let (x0, y0, side, hole) = (176, 64, 128, 32...95)
        var pixels: [UInt8] = []
        var mask: [UInt8] = []
        for y in 0..<side {
            for x in 0..<side {
                for c in 0..<3 { pixels.append(UInt8(photo.sample(x: x0 + x, y: y0 + y, channel: c))) }
                mask.append(hole.contains(x) && hole.contains(y) ? 255 : 0)
            }
        }
        let crop = try RasterImage(width: side, height: side, channels: 3, samples: .uint8(pixels))
        try ImageFile.write(crop, to: scratch.file("crop.png"))
        try ImageFile.write(try RasterImage(width: side, height: side, channels: 1, samples: .uint8(mask)), to: scratch.file("mask.png"))
        let out = scratch.file("filled.png")
        let r = try CLI.run(["inpaint", scratch.file("crop.png"), "--mask", scratch.file("mask.png"), "-o", out, "--seed", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let info = try CLI.run(["info", out]).stdout
        #expect(info.contains("model: ldm-edit-inpaint.safetensors") && info.contains("sampler: dpmpp-2m-karras, 15 steps"), "\(info)")
        #expect(info.contains("of 8 candidates (6-step previews, blended with their mean)"), "\(info)")
        let result = try ImageFile.read(out)
        var (fillError, meanError, outside) = (0.0, 0.0, 0)
        var surround = [0.0, 0.0, 0.0], count = 0.0
        for p in 0..<(side * side) where mask[p] == 0 {
            for c in 0..<3 { surround[c] += Double(pixels[p * 3 + c]) }
            count += 1
        }
        for p in 0..<(side * side) {
            for c in 0..<3 {
                let (truth, got) = (Double(pixels[p * 3 + c]), Double(result.sample(x: p % side, y: p / side, channel: c)))
                if mask[p] == 0 { outside += truth == got ? 0 : 1; continue }
                fillError += (got - truth) * (got - truth)
                meanError += (surround[c] / count - truth) * (surround[c] / count - truth)
            }
        }
        #expect(outside == 0)
        let n = Double(hole.count * hole.count * 3)
        let (fill, mean) = (10 * log10(255 * 255 / (fillError / n)), 10 * log10(255 * 255 / (meanError / n)))
        #expect(fill > mean, "fill \(fill) dB, the surround's mean colour \(mean) dB")
    }
}
