import Testing
@testable import LDMImageIO

@Suite struct ExifOrientationTests {
    /// Minimal EXIF payload: TIFF header, IFD0 with one or two entries, the orientation among them.
    static func payload(orientation: UInt16, littleEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { littleEndian ? u16(v & 0xFFFF) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xFFFF) }
        var b: [UInt8] = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]
        b += u16(42) + u32(8) + u16(2)
        b += u16(0x010F) + u16(2) + u32(4) + u32(0)          // Make (ASCII), skipped
        b += u16(0x0112) + u16(3) + u32(1) + u16(Int(orientation)) + u16(0)
        return b + u32(0)
    }

    @Test func parsesBothByteOrders() {
        for value in UInt16(1)...8 {
            #expect(ExifOrientation(exifPayload: Self.payload(orientation: value, littleEndian: true))?.rawValue == value)
            #expect(ExifOrientation(exifPayload: Self.payload(orientation: value, littleEndian: false))?.rawValue == value)
        }
        #expect(ExifOrientation(exifPayload: Self.payload(orientation: 9, littleEndian: true)) == nil)
    }

    @Test func malformedPayloadsAreIgnoredSafely() {
        let good = Self.payload(orientation: 6, littleEndian: true)
        for length in 0..<good.count - 5 { _ = ExifOrientation(exifPayload: good.prefix(length)) }
        var huge = good
        huge[4] = 0xFF; huge[5] = 0xFF; huge[6] = 0xFF; huge[7] = 0x7F  // IFD offset beyond the data
        #expect(ExifOrientation(exifPayload: huge) == nil)
        #expect(ExifOrientation(exifPayload: Array("garbage!".utf8)) == nil)
    }

    /// Stored image (3x2):  a b c      Upright result for each tag, per EXIF 2.3 §4.6.4 A.
    ///                      d e f
    @Test func uprightsAllEightOrientations() throws {
        let stored = RasterImage(unchecked: 3, height: 2, channels: 1, samples: .uint8([1, 2, 3, 4, 5, 6]))
        let expected: [ExifOrientation: (Int, Int, [UInt8])] = [
            .up: (3, 2, [1, 2, 3, 4, 5, 6]),
            .upMirrored: (3, 2, [3, 2, 1, 6, 5, 4]),
            .down: (3, 2, [6, 5, 4, 3, 2, 1]),
            .downMirrored: (3, 2, [4, 5, 6, 1, 2, 3]),
            .leftMirrored: (2, 3, [1, 4, 2, 5, 3, 6]),
            .right: (2, 3, [4, 1, 5, 2, 6, 3]),
            .rightMirrored: (2, 3, [6, 3, 5, 2, 4, 1]),
            .left: (2, 3, [3, 6, 2, 5, 1, 4]),
        ]
        for (orientation, (w, h, samples)) in expected {
            let upright = orientation.uprighted(stored)
            #expect(upright.width == w && upright.height == h, "\(orientation)")
            #expect(upright.samples == .uint8(samples), "\(orientation)")
        }
    }

    /// A JPEG carrying orientation 6 (rotate 90° clockwise) comes out upright and transposed in size.
    @Test func jpegReaderAppliesOrientation() throws {
        let scratch = ScratchFolder()
        // 32x16: left half black, right half white.
        var samples = [UInt8](repeating: 0, count: 32 * 16)
        for y in 0..<16 { for x in 16..<32 { samples[y * 32 + x] = 255 } }
        let image = RasterImage(unchecked: 32, height: 16, channels: 1, samples: .uint8(samples))
        try ImageFile.write(image, to: scratch.file("plain.jpg"), options: ImageWriteOptions(jpegQuality: 100))
        var bytes = scratch.bytes("plain.jpg")
        let exif = Array("Exif".utf8) + [0, 0] + Self.payload(orientation: 6, littleEndian: false)
        let length = exif.count + 2
        bytes.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + exif, at: 2)
        let path = scratch.write(bytes, to: "rotated.jpg")

        let upright = try ImageFile.read(path)
        #expect(upright.width == 16 && upright.height == 32)
        // Rotating clockwise puts the stored left (black) half on top.
        #expect(upright.sample(x: 8, y: 4, channel: 0) < 20)
        #expect(upright.sample(x: 8, y: 28, channel: 0) > 235)
        let raw = try ImageFile.read(path, options: ImageReadOptions(applyExifOrientation: false))
        #expect(raw.width == 32 && raw.height == 16)
        // The header-only reader reports the same upright size.
        let header = try ImageFile.readHeader(path)
        #expect(header.width == 16 && header.height == 32 && header.channels == 1)
        #expect(try ImageFile.readHeader(path, options: ImageReadOptions(applyExifOrientation: false)).width == 32)
    }
}
