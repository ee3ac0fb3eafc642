import Foundation
import Testing
@testable import LDMImageIO

/// `ImageFile.readHeader`: the size, layout and metadata `read` would give, without the pixels.
@Suite struct HeaderTests {
    let scratch = ScratchFolder()

    @Test func headerAgreesWithTheFullRead() throws {
        let profile = TestICCProfiles.make()
        let grayProfile = TestICCProfiles.make(colorSpace: "GRAY")
        for ext in ["png", "tif", "jpg"] {
            for channels in 1...4 {
                for depth in [8, 16] where ext != "jpg" || (depth == 8 && (channels == 1 || channels == 3)) {
                    var raster = TestImages.random(width: 13, height: 7, channels: channels, bitDepth: depth)
                    raster.metadata = ImageMetadata(iccProfile: channels < 3 ? grayProfile : profile, text: "{\"n\": \(channels)} ✓")
                    let path = scratch.file("h\(channels)_\(depth).\(ext)")
                    try ImageFile.write(raster, to: path)
                    let full = try ImageFile.read(path)
                    let header = try ImageFile.readHeader(path)
                    #expect(header.width == full.width && header.height == full.height, "\(path)")
                    #expect(header.channels == full.channels && header.bitDepth == full.bitDepth, "\(path)")
                    #expect(header.metadata == full.metadata && header.metadata.text == "{\"n\": \(channels)} ✓", "\(path)")
                    #expect(header.format == ImageFormat(pathExtension: ext))
                }
            }
        }
    }

    /// A header check does not decode, so it ignores the pixel ceiling and a body cut short.
    @Test func headerNeedsNoPixels() throws {
        let raster = TestImages.random(width: 300, height: 200, channels: 3, bitDepth: 8)
        for ext in ["png", "tif", "jpg"] {
            let path = scratch.file("big.\(ext)")
            try ImageFile.write(raster, to: path)
            #expect(throws: ImageIOError.self) { try ImageFile.read(path, options: ImageReadOptions(maxPixels: 100)) }
            #expect(try ImageFile.readHeader(path, options: ImageReadOptions(maxPixels: 100)).width == 300)
        }
        // PNG and JPEG headers sit at the start: a file cut in the middle of its pixels still has one.
        for ext in ["png", "jpg"] {
            let bytes = scratch.bytes("big.\(ext)")
            let cut = scratch.write(Array(bytes.prefix(bytes.count / 2)), to: "cut.\(ext)")
            #expect(throws: ImageIOError.self) { try ImageFile.read(cut) }
            #expect(try ImageFile.readHeader(cut).height == 200)
        }
        let garbage = scratch.write([UInt8](repeating: 7, count: 64), to: "garbage.png")
        #expect(throws: ImageIOError.self) { try ImageFile.readHeader(garbage) }
        #expect(throws: ImageIOError.self) { try ImageFile.readHeader(scratch.file("missing.png")) }
    }
}
