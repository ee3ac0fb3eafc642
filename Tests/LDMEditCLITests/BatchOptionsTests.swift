import Foundation
import LDMImageIO
import Testing

/// Issue 8 (inputs and outputs): --recursive, --name, --format, --bit-depth, globs, --fail-fast.
@Suite struct BatchOptionsTests {
    let scratch = Scratch()

    func image(_ path: String, width: Int = 6, height: Int = 4, channels: Int = 3) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let samples = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 * 11) }
        try ImageFile.write(try RasterImage(width: width, height: height, channels: channels, samples: .uint8(samples)), to: path)
    }

    func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { !((folder as NSString).appendingPathComponent($0) as NSString).pathExtension.isEmpty }.sorted()
    }

    @Test func recursiveMirrorsTheTree() throws {
        try image(scratch.file("in/a.png"))
        try image(scratch.file("in/sub/b.jpg"))
        try image(scratch.file("in/sub/deeper/c.tif"))
        try image(scratch.file("in/.hidden/d.png"))
        let flat = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("flat"), "-q"])
        #expect(flat.status == 0 && files(scratch.file("flat")) == ["a.png"])
        let r = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--recursive", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(files(scratch.file("out")) == ["a.png", "sub/b.jpg", "sub/deeper/c.tif"])
    }

    @Test func nameTemplateFormatAndBitDepth() throws {
        try image(scratch.file("in/photo.jpg"))
        let r = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--name", "{stem}-4x.{ext}",
                             "--format", "tiff", "--bit-depth", "16", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(files(scratch.file("out")) == ["photo-4x.tif"])
        let result = try ImageFile.read(scratch.file("out/photo-4x.tif"))
        #expect(result.bitDepth == 16 && result.width == 24)
        let beside = try CLI.run(["upscale", scratch.file("in/photo.jpg"), "--name", "{stem}{suffix}.png", "-q"])
        #expect(beside.status == 0 && FileManager.default.fileExists(atPath: scratch.file("in/photo_x4.png")))
        let bad = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("o2"), "--name", "fixed.png"])
        #expect(bad.status == 64 && bad.stderr.contains("needs {stem}"))
        // Two inputs that the template maps to one name: the second is refused, the first written.
        try image(scratch.file("other/photo.png"))
        let collide = try CLI.run(["upscale", scratch.file("in/photo.jpg"), scratch.file("other/photo.png"), "-o", scratch.file("o3"),
                                   "--name", "{stem}.png"])
        #expect(collide.status == 1 && collide.stderr.contains("would also be written for"))
        #expect(files(scratch.file("o3")) == ["photo.png"])
    }

    @Test func quotedGlobsAreExpanded() throws {
        try image(scratch.file("in/one.png"))
        try image(scratch.file("in/two.png"))
        try image(scratch.file("in/three.jpg"))
        let r = try CLI.run(["upscale", scratch.file("in") + "/*.png", "-o", scratch.file("out"), "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(files(scratch.file("out")) == ["one.png", "two.png"])
        let none = try CLI.run(["upscale", scratch.file("in") + "/*.bmp", "-o", scratch.file("out2")])
        #expect(none.status == 1 && none.stderr.contains("the pattern matches no file"))
    }

    @Test func failFastStopsAtTheFirstFailure() throws {
        try image(scratch.file("in/a.png"))
        try Data("broken".utf8).write(to: URL(fileURLWithPath: scratch.file("in/b.png")))
        try image(scratch.file("in/c.png"))
        let goOn = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("all")])
        #expect(goOn.status == 1 && files(scratch.file("all")) == ["a.png", "c.png"])
        let stop = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("first"), "--fail-fast"])
        #expect(stop.status == 1 && stop.stderr.contains("--fail-fast"))
        #expect(files(scratch.file("first")) == ["a.png"])
    }
}
