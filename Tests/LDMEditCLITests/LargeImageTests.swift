import Foundation
import LDMImageIO
import Testing

/// Issue 9 through the binary: --tile, --max-memory, inpaint --strategy (tiny parity models).
@Suite struct LargeImageTests {
    let scratch = Scratch()
    static func parity(_ kind: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/parity/" + kind) }

    func image(_ name: String, width: Int, height: Int) throws -> String {
        let samples = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: ($0 * 31 + $0 / 97) % 251) }
        let path = scratch.file(name)
        try ImageFile.write(try RasterImage(width: width, height: height, channels: 3, samples: .uint8(samples)), to: path)
        return path
    }

    func info(_ path: String) throws -> [String: Any] {
        let r = try CLI.run(["info", path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return object?["provenance"] as? [String: Any] ?? [:]
    }

    @Test func tilesAndMemoryCeiling() throws {
        let input = try image("in.png", width: 70, height: 45)
        let out = scratch.file("out.png")
        let r = try CLI.run(["upscale", input, "-o", out, "--model", Self.parity("sr"), "--steps", "2", "--seed", "1",
                             "--tile", "24", "--tile-overlap", "8", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ImageFile.read(out).width == 140)
        let provenance = try info(out)
        #expect(provenance["tiling"] as? String == "unet 24/8, vq 128/32" && provenance["plan"] as? String == "unet 24/8, vq 128/32")
        // Too little memory for even the smallest tiles: a clear error, no output, exit 1.
        let tight = try CLI.run(["upscale", input, "-o", scratch.file("no.png"), "--model", Self.parity("sr"), "--steps", "1", "--max-memory", "20M"])
        #expect(tight.status == 1 && tight.stderr.contains("--max-memory") && tight.stderr.contains("in.png"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("no.png")))
        for bad in [["--max-memory", "lots"], ["--tile", "8"], ["--tile", "32", "--tile-overlap", "32"]] {
            #expect(try CLI.run(["upscale", input, "-o", scratch.file("x.png"), "--model", Self.parity("sr")] + bad).status == 64, "\(bad)")
        }
    }

    @Test func inpaintStrategiesOnALargeImage() throws {
        let (w, h) = (1100, 700)
        let input = try image("big.png", width: w, height: h)
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in 300..<340 { for x in 500..<560 { mask[y * w + x] = 255 } }
        for y in 680..<700 { for x in 1080..<1100 { mask[y * w + x] = 255 } }  // touches two edges
        let maskPath = scratch.file("big_mask.png")
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 1, samples: .uint8(mask)), to: maskPath)
        let source = try ImageFile.read(input)
        for (strategy, plan) in [("auto", "crop 2: "), ("resize", "resize 256x163")] {
            let out = scratch.file("out-\(strategy).png")
            let r = try CLI.run(["inpaint", input, "--mask", maskPath, "-o", out, "--model", Self.parity("inp"), "--steps", "2",
                                 "--seed", "1", "--strategy", strategy, "--resize-limit", "256", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            let result = try ImageFile.read(out)
            var changed = 0, outside = 0
            for p in 0..<(w * h) {
                for c in 0..<3 where result.sample(x: p % w, y: p / w, channel: c) != source.sample(x: p % w, y: p / w, channel: c) {
                    if mask[p] == 0 { outside += 1 } else { changed += 1 }
                }
            }
            #expect(outside == 0 && changed > 0, "\(strategy)")
            #expect((try info(out)["plan"] as? String)?.hasPrefix(plan) == true, "\(strategy)")
        }
        #expect(try CLI.run(["inpaint", input, "--mask", maskPath, "--model", Self.parity("inp"), "--strategy", "magic"]).status == 64)
    }
}
