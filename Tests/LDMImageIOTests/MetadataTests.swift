import Foundation
import Testing
@testable import LDMImageIO

/// ICC profiles and provenance text must survive write → read byte for byte in every format, and
/// nothing else of a file's metadata may leak into them.
@Suite struct MetadataTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let ext: String
        let channels: Int
        let bitDepth: Int
        var testDescription: String { "\(ext) \(channels)ch \(bitDepth)-bit" }
    }

    static let iccCases: [Case] =
        [1, 2, 3, 4].flatMap { c in [8, 16].map { Case(ext: "png", channels: c, bitDepth: $0) } }
        + [(1, 8), (3, 8), (4, 8), (3, 16)].map { Case(ext: "tif", channels: $0.0, bitDepth: $0.1) }
        + [1, 3].map { Case(ext: "jpg", channels: $0, bitDepth: 8) }

    static let sampleText = "ldm-edit upscale ×4 — Lanczos; naïve café, 日本語, emoji 🚀 \"quoted\" \\ back"

    static func image(_ c: Case, metadata: ImageMetadata) -> RasterImage {
        var image = c.ext == "jpg"
            ? TestImages.gradient(width: 19, height: 11, channels: c.channels)
            : TestImages.random(width: 19, height: 11, channels: c.channels, bitDepth: c.bitDepth)
        image.metadata = metadata
        return image
    }

    @Test(arguments: iccCases)
    func iccProfileAndTextRoundTrip(_ c: Case) throws {
        let scratch = ScratchFolder()
        for version in [TestICCProfiles.Version.v2, .v4] {
            let profile = TestICCProfiles.make(colorSpace: c.channels >= 3 ? "RGB " : "GRAY", version: version)
            let metadata = ImageMetadata(iccProfile: profile, text: Self.sampleText)
            let path = scratch.file("m.\(c.ext)")
            try ImageFile.write(Self.image(c, metadata: metadata), to: path)
            let back = try ImageFile.read(path)
            #expect(back.metadata == metadata, "\(version)")
            #expect(back.metadata.iccDescription == "ldm-edit test profile")
            if c.ext != "jpg" { #expect(back == Self.image(c, metadata: metadata)) }
        }
    }

    @Test(arguments: ["png", "tif", "jpg"])
    func textRoundTrips(_ ext: String) throws {
        let scratch = ScratchFolder()
        let long = String(repeating: "provenance ✓ 0123456789 ", count: 420)  // over 10 KB of UTF-8
        #expect(long.utf8.count > 10_000)
        for text in [Self.sampleText, long, "", "a\nb\r\nc\ttab"] {
            var image = TestImages.gradient(width: 8, height: 6, channels: 3)
            image.metadata.text = text
            let path = scratch.file("t.\(ext)")
            try ImageFile.write(image, to: path)
            let back = try ImageFile.read(path).metadata
            #expect(back.text == text, "\(text.prefix(20))")
            #expect(back.iccProfile == nil)
        }
    }

    /// The JPEG writer splits a profile over several APP2 markers of at most 65519 bytes each.
    @Test func largeProfileSpansSeveralJPEGMarkers() throws {
        let scratch = ScratchFolder()
        let profile = TestICCProfiles.make(colorSpace: "RGB ", version: .v4, padding: 150_000)
        var image = TestImages.gradient(width: 16, height: 16, channels: 3)
        image.metadata = ImageMetadata(iccProfile: profile, text: "big")
        for ext in ["jpg", "png", "tif"] {
            try ImageFile.write(image, to: scratch.file("big.\(ext)"))
            #expect(try ImageFile.read(scratch.file("big.\(ext)")).metadata == image.metadata, "\(ext)")
        }
        let markers = Self.ranges(of: Array("ICC_PROFILE".utf8) + [0], in: scratch.bytes("big.jpg"))
        #expect(markers.count == 3)
    }

    /// libpng 1.6.39's iCCP reader drops a chunk shorter than 92 bytes ("too short": it reads up to
    /// 81 keyword bytes first), which a small, zlib-compressed profile easily is.
    @Test func smallCompressibleProfilesSurvivePNG() throws {
        let scratch = ScratchFolder()
        for profile in [TestICCProfiles.make(description: nil), TestICCProfiles.make(colorSpace: "GRAY", description: "")] {
            var image = TestImages.random(width: 3, height: 2, channels: profile[16] == 0x52 ? 3 : 1, bitDepth: 8)
            image.metadata.iccProfile = profile
            try ImageFile.write(image, to: scratch.file("small.png"))
            #expect(try ImageFile.read(scratch.file("small.png")).metadata.iccProfile == profile, "\(profile.count) bytes")
        }
    }

    @Test func filesWithoutMetadataReadBackEmpty() throws {
        let scratch = ScratchFolder()
        for ext in ["png", "tif", "jpg"] {
            for channels in [1, 3] {
                let image = TestImages.gradient(width: 9, height: 7, channels: channels)
                try ImageFile.write(image, to: scratch.file("plain.\(ext)"))
                #expect(try ImageFile.read(scratch.file("plain.\(ext)")).metadata == ImageMetadata(), "\(ext)")
            }
        }
        // Nothing ldm-edit-specific is written either.
        #expect(Self.ranges(of: Array("ldm-edit".utf8), in: scratch.bytes("plain.png")).isEmpty)
        #expect(Self.ranges(of: Array("ldm-edit".utf8), in: scratch.bytes("plain.tif")).isEmpty)
    }

    /// libpng refuses a GRAY profile on an RGB image (and garbage anywhere); that loses the chunk,
    /// not the file. TIFF and JPEG do not check profiles and keep any bytes.
    @Test func unsuitableProfilesDoNotFailTheWrite() throws {
        let scratch = ScratchFolder()
        let gray = TestICCProfiles.make(colorSpace: "GRAY")
        let garbage = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        for (channels, profile) in [(3, gray), (4, gray), (1, TestICCProfiles.make(colorSpace: "RGB ")), (3, garbage)] {
            var image = TestImages.random(width: 5, height: 4, channels: channels, bitDepth: 8)
            image.metadata = ImageMetadata(iccProfile: profile, text: "kept")
            try ImageFile.write(image, to: scratch.file("x.png"))
            let back = try ImageFile.read(scratch.file("x.png"))
            #expect(back.metadata == ImageMetadata(text: "kept"))
            #expect(back.samples == image.samples)
        }
        var rgb = TestImages.gradient(width: 5, height: 4, channels: 3)
        rgb.metadata.iccProfile = garbage
        for ext in ["tif", "jpg"] {
            try ImageFile.write(rgb, to: scratch.file("x.\(ext)"))
            #expect(try ImageFile.read(scratch.file("x.\(ext)")).metadata.iccProfile == garbage, "\(ext)")
        }
        // An empty profile means none.
        rgb.metadata.iccProfile = []
        for ext in ["png", "tif", "jpg"] {
            try ImageFile.write(rgb, to: scratch.file("e.\(ext)"))
            #expect(try ImageFile.read(scratch.file("e.\(ext)")).metadata == ImageMetadata(), "\(ext)")
        }
    }

    @Test func jpegRefusesTextLongerThanOneComment() throws {
        let scratch = ScratchFolder()
        var image = TestImages.gradient(width: 4, height: 4, channels: 1)
        image.metadata.text = String(repeating: "x", count: 65_533)
        try ImageFile.write(image, to: scratch.file("ok.jpg"))
        #expect(try ImageFile.read(scratch.file("ok.jpg")).metadata.text == image.metadata.text)
        image.metadata.text = String(repeating: "x", count: 65_534)
        #expect(throws: ImageIOError.self) { try ImageFile.write(image, to: scratch.file("long.jpg")) }
        #expect(scratch.contents() == ["ok.jpg"])
    }

    /// A broken APP2 sequence (bad sequence number, disagreeing marker counts) reads as no profile.
    @Test func corruptJPEGProfileMarkersAreIgnored() throws {
        let scratch = ScratchFolder()
        var image = TestImages.gradient(width: 16, height: 8, channels: 3)
        image.metadata = ImageMetadata(iccProfile: TestICCProfiles.make(padding: 100_000), text: "still here")
        try ImageFile.write(image, to: scratch.file("good.jpg"))
        let good = scratch.bytes("good.jpg")
        let tag = Array("ICC_PROFILE".utf8) + [0]
        let markers = Self.ranges(of: tag, in: good)
        #expect(markers.count == 2)
        // Payload after the tag: sequence number (1-based), then the number of markers.
        let edits: [(Int, UInt8)] = [(markers[0] + tag.count, 0), (markers[0] + tag.count, 3),
                                     (markers[1] + tag.count, 1), (markers[1] + tag.count + 1, 5)]
        for (offset, value) in edits {
            var bytes = good
            bytes[offset] = value
            let back = try ImageFile.read(scratch.write(bytes, to: "bad.jpg"))
            #expect(back.metadata == ImageMetadata(text: "still here"), "byte \(offset) = \(value)")
            #expect(back.width == 16 && back.height == 8)
        }
    }

    /// Only the "ldm-edit" text chunk is ours: other tEXt/iTXt chunks never show up as `text`.
    @Test func otherPNGTextChunksAreIgnored() throws {
        let scratch = ScratchFolder()
        let plain = TestPNGEncoder.encode(width: 2, height: 2, bitDepth: 8, colorType: 0, samplesPerPixel: 1,
                                          rows: [[0, 255], [255, 0]])
        let ihdrEnd = 8 + 25
        func itxt(_ key: String, _ text: String) -> [UInt8] {
            TestPNGEncoder.chunk("iTXt", Array(key.utf8) + [0, 0, 0, 0, 0] + Array(text.utf8))
        }
        let foreign = TestPNGEncoder.chunk("tEXt", Array("Comment".utf8) + [0] + Array("not ours".utf8))
            + TestPNGEncoder.chunk("tEXt", Array("Software".utf8) + [0] + Array("GIMP".utf8))
            + itxt("Description", "also not ours") + itxt("ldm-edit-x", "near miss")
        var bytes = plain
        bytes.insert(contentsOf: foreign, at: ihdrEnd)
        #expect(try ImageFile.read(scratch.write(bytes, to: "foreign.png")).metadata == ImageMetadata())
        bytes = plain
        bytes.insert(contentsOf: foreign + itxt("ldm-edit", "ours ✓") + foreign, at: ihdrEnd)
        #expect(try ImageFile.read(scratch.write(bytes, to: "mixed.png")).metadata == ImageMetadata(text: "ours ✓"))
    }

    /// ImageDescription is returned whoever wrote it; our writer also names itself in Software.
    @Test func tiffDescriptionAndSoftwareTags() throws {
        let scratch = ScratchFolder()
        var image = TestImages.random(width: 3, height: 3, channels: 3, bitDepth: 16)
        image.metadata.text = "made by ldm-edit"
        try ImageFile.write(image, to: scratch.file("s.tif"))
        let bytes = scratch.bytes("s.tif")
        #expect(Self.ranges(of: Array("ldm-edit".utf8) + [0], in: bytes).count == 2)  // description and Software
    }

    @Test func transformsKeepMetadata() throws {
        let metadata = ImageMetadata(iccProfile: TestICCProfiles.make(), text: "t")
        var image = TestImages.random(width: 4, height: 3, channels: 4, bitDepth: 8)
        image.metadata = metadata
        #expect(image.converted(toBitDepth: 16).metadata == metadata)
        #expect(image.converted(toBitDepth: 16).converted(toBitDepth: 8) == image)
        #expect(image.droppingAlpha().metadata == metadata)
        for orientation in ExifOrientation.allCases {
            #expect(orientation.uprighted(image).metadata == metadata)
        }
        let made = try RasterImage(width: 1, height: 1, channels: 1, samples: .uint8([7]), metadata: metadata)
        #expect(made.metadata == metadata)
        #expect(try RasterImage(width: 1, height: 1, channels: 1, samples: .uint8([7])).metadata == ImageMetadata())
    }

    /// The reader applies the EXIF orientation after reading; profile and text come along.
    @Test func exifRotatedJPEGKeepsMetadata() throws {
        let scratch = ScratchFolder()
        var image = TestImages.gradient(width: 32, height: 16, channels: 3)
        image.metadata = ImageMetadata(iccProfile: TestICCProfiles.make(version: .v4), text: "rotated")
        try ImageFile.write(image, to: scratch.file("plain.jpg"))
        var bytes = scratch.bytes("plain.jpg")
        let exif = Array("Exif".utf8) + [0, 0] + ExifOrientationTests.payload(orientation: 6, littleEndian: false)
        bytes.insert(contentsOf: [0xFF, 0xE1, UInt8((exif.count + 2) >> 8), UInt8((exif.count + 2) & 0xFF)] + exif, at: 2)
        let back = try ImageFile.read(scratch.write(bytes, to: "rotated.jpg"))
        #expect(back.width == 16 && back.height == 32)
        #expect(back.metadata == image.metadata)
    }

    static func ranges(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard haystack.count >= needle.count else { return [] }
        return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
