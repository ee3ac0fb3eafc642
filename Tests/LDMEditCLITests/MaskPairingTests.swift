import Foundation
import LDMImageIO
import Testing

/// Issue 8 mask pairing: --mask-dir, X.png + X_mask.png, unmatched images reported before work,
/// --mask-invert, mask warnings. Tiny parity inpainting model (fast).
@Suite struct MaskPairingTests {
    let scratch = Scratch()
    let model = CLI.sample("Tests/LDMModelsTests/Fixtures/parity/inp")

    func write(_ path: String, channels: Int, value: ((Int, Int) -> UInt8)) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var s: [UInt8] = []
        for y in 0..<16 { for x in 0..<16 { for _ in 0..<channels { s.append(value(x, y)) } } }
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: channels, samples: .uint8(s)), to: path)
    }

    func box(_ x: Int, _ y: Int) -> UInt8 { (4..<10).contains(x) && (4..<10).contains(y) ? 255 : 0 }

    @Test func sideBySideMasksAndUnmatchedImages() throws {
        try write(scratch.file("in/a.png"), channels: 3) { x, y in UInt8(x * 15) }
        try write(scratch.file("in/a_mask.png"), channels: 1, value: box)
        try write(scratch.file("in/b.png"), channels: 3) { x, y in UInt8(y * 15) }
        let r = try CLI.run(["inpaint", scratch.file("in"), "-o", scratch.file("out"), "--model", model, "--steps", "2", "--seed", "1"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let missing = try #require(lines.firstIndex { $0.contains("b.png: no mask found") })
        let work = try #require(lines.firstIndex { $0.contains("a.png →") })
        #expect(missing < work, "unmatched images are reported before work starts")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("out")) == ["a.png"], "masks are not inputs")
    }

    @Test func maskFolderWithMaskSuffixedNames() throws {
        try write(scratch.file("in/photo.png"), channels: 3) { x, _ in UInt8(x * 15) }
        try write(scratch.file("masks/photo_mask.png"), channels: 1, value: box)
        let r = try CLI.run(["inpaint", scratch.file("in/photo.png"), "--mask-dir", scratch.file("masks"), "--model", model,
                             "--steps", "2", "--seed", "1", "-o", scratch.file("o.png")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.file("o.png")))
    }

    @Test func emptyMaskWarnsAndInvertRepaintsTheRest() throws {
        try write(scratch.file("in/p.png"), channels: 3) { x, y in UInt8((x * 7 + y * 3) % 256) }
        try write(scratch.file("black.png"), channels: 1) { _, _ in 0 }
        let empty = try CLI.run(["inpaint", scratch.file("in/p.png"), "--mask", scratch.file("black.png"), "--model", model,
                                 "--steps", "2", "--seed", "1", "-o", scratch.file("same.png")])
        #expect(empty.status == 0 && empty.stderr.contains("the mask is empty"))
        #expect(try ImageFile.read(scratch.file("same.png")).samples == ImageFile.read(scratch.file("in/p.png")).samples, "nothing repainted")
        let inverted = try CLI.run(["inpaint", scratch.file("in/p.png"), "--mask", scratch.file("black.png"), "--mask-invert",
                                    "--model", model, "--steps", "2", "--seed", "1", "-o", scratch.file("all.png")])
        #expect(inverted.status == 0 && inverted.stderr.contains("all white"))
        #expect(try ImageFile.read(scratch.file("all.png")) != ImageFile.read(scratch.file("in/p.png")))
        let both = try CLI.run(["inpaint", scratch.file("in/p.png"), "--mask", scratch.file("black.png"), "--mask-dir", scratch.file("in")])
        #expect(both.status == 64)
    }
}
