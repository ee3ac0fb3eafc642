import CImageCodecs
import Foundation
import Testing
@testable import LDMImageIO

/// Write → read must give back every sample for the lossless formats, in every layout we support.
@Suite struct RoundTripTests {
    static let sizes = [(1, 1), (3, 7), (17, 5), (40, 33)]

    struct Case: CustomTestStringConvertible, Sendable {
        let format: String
        let channels: Int
        let bitDepth: Int
        var testDescription: String { "\(format) \(channels)ch \(bitDepth)-bit" }
    }

    static let losslessCases: [Case] = ["png", "tif"].flatMap { f in
        (1...4).flatMap { c in [8, 16].map { Case(format: f, channels: c, bitDepth: $0) } }
    }

    @Test(arguments: losslessCases)
    func losslessRoundTrip(_ c: Case) throws {
        let scratch = ScratchFolder()
        for (w, h) in Self.sizes {
            let image = TestImages.random(width: w, height: h, channels: c.channels, bitDepth: c.bitDepth, seed: UInt64(w * 31 + h))
            let path = scratch.file("img_\(w)x\(h).\(c.format)")
            try ImageFile.write(image, to: path)
            let back = try ImageFile.read(path)
            #expect(back == image, "\(w)x\(h)")
        }
    }

    @Test(arguments: ImageWriteOptions.TIFFCompression.allCases)
    func tiffCompressions(_ compression: ImageWriteOptions.TIFFCompression) throws {
        let scratch = ScratchFolder()
        for channels in 1...4 {
            for depth in [8, 16] {
                let image = TestImages.random(width: 17, height: 5, channels: channels, bitDepth: depth)
                let path = scratch.file("c\(channels)_\(depth).tiff")
                try ImageFile.write(image, to: path, options: ImageWriteOptions(tiffCompression: compression))
                #expect(try ImageFile.read(path) == image)
            }
        }
    }

    /// Tiles and separate planes are reader paths our default writer never takes.
    @Test(arguments: [(1, 0), (0, 1), (1, 1)])
    func tiffTiledAndSeparatePlanes(_ layout: (Int, Int)) throws {
        let scratch = ScratchFolder()
        for channels in 1...4 {
            for depth in [8, 16] {
                for (w, h) in Self.sizes {
                    let image = TestImages.random(width: w, height: h, channels: channels, bitDepth: depth)
                    let path = scratch.file("t.tif")
                    for compression in [LDM_TIFF_NONE, LDM_TIFF_LZW, LDM_TIFF_DEFLATE] {
                        var err = [CChar](repeating: 0, count: 512)
                        let status = image.withCodecImage {
                            ldm_tiff_write_layout(path, $0, compression, Int32(layout.0), Int32(layout.1), &err, err.count)
                        }
                        #expect(status == LDM_OK)
                        #expect(try ImageFile.read(path) == image, "\(channels)ch \(depth)-bit \(w)x\(h) \(compression)")
                    }
                }
            }
        }
    }

    @Test(arguments: [1, 3])
    func jpegRoundTripIsClose(_ channels: Int) throws {
        let scratch = ScratchFolder()
        for (w, h) in Self.sizes + [(64, 48)] {
            let image = TestImages.gradient(width: w, height: h, channels: channels)
            let path = scratch.file("g.jpg")
            try ImageFile.write(image, to: path, options: ImageWriteOptions(jpegQuality: 100))
            let back = try ImageFile.read(path)
            #expect(back.width == w && back.height == h && back.channels == channels && back.bitDepth == 8)
            guard case .uint8(let a) = image.samples, case .uint8(let b) = back.samples else { Issue.record(); continue }
            let meanError = zip(a, b).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(a.count)
            #expect(meanError < 2.0, "\(w)x\(h): mean abs error \(meanError) at quality 100")
        }
    }

    @Test func jpegQualityChangesSize() throws {
        let scratch = ScratchFolder()
        let image = TestImages.random(width: 64, height: 64, channels: 3, bitDepth: 8)
        try ImageFile.write(image, to: scratch.file("lo.jpg"), options: ImageWriteOptions(jpegQuality: 20))
        try ImageFile.write(image, to: scratch.file("hi.jpg"), options: ImageWriteOptions(jpegQuality: 95))
        #expect(scratch.bytes("lo.jpg").count < scratch.bytes("hi.jpg").count / 2)
    }

    @Test func formatComesFromContentNotName() throws {
        let scratch = ScratchFolder()
        let image = TestImages.random(width: 5, height: 4, channels: 3, bitDepth: 8)
        try ImageFile.write(image, to: scratch.file("real.png"))
        try FileManager.default.moveItem(atPath: scratch.file("real.png"), toPath: scratch.file("named.jpg"))
        #expect(try ImageFile.sniff(scratch.file("named.jpg")) == .png)
        #expect(try ImageFile.read(scratch.file("named.jpg")) == image)
    }

    @Test func jpegRefusesAlphaAnd16Bit() throws {
        let scratch = ScratchFolder()
        let rgba = TestImages.random(width: 4, height: 4, channels: 4, bitDepth: 8)
        let deep = TestImages.random(width: 4, height: 4, channels: 3, bitDepth: 16)
        #expect(throws: ImageIOError.self) { try ImageFile.write(rgba, to: scratch.file("a.jpg")) }
        #expect(throws: ImageIOError.self) { try ImageFile.write(deep, to: scratch.file("b.jpg")) }
        #expect(throws: ImageIOError.unknownOutputFormat(path: scratch.file("c.bmp"))) {
            try ImageFile.write(rgba, to: scratch.file("c.bmp"))
        }
        #expect(scratch.contents().isEmpty)
    }

    @Test func bitDepthConversionRoundTrips() {
        let eight = TestImages.random(width: 16, height: 16, channels: 3, bitDepth: 8)
        #expect(eight.converted(toBitDepth: 16).converted(toBitDepth: 8) == eight)
        let deep = RasterImage(unchecked: 3, height: 1, channels: 1, samples: .uint16([0, 128, 65535]))
        #expect(deep.converted(toBitDepth: 8).samples == .uint8([0, 0, 255]))
        let withAlpha = TestImages.random(width: 3, height: 2, channels: 4, bitDepth: 8)
        let opaque = withAlpha.droppingAlpha()
        #expect(opaque.channels == 3)
        #expect(opaque.sample(x: 2, y: 1, channel: 2) == withAlpha.sample(x: 2, y: 1, channel: 2))
    }
}
