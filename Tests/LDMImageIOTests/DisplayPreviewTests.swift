import Testing
@testable import LDMImageIO

/// The 8-bit picture the web page shows of an image.
@Suite struct DisplayPreviewTests {
    @Test func eightBitImagesAreShownAsTheyAre() throws {
        let image = try RasterImage(width: 2, height: 1, channels: 4, samples: .uint8([1, 2, 3, 4, 250, 251, 252, 253]),
                                    metadata: ImageMetadata(text: "provenance"))
        let preview = image.displayPreview()
        #expect(preview.samples == image.samples && preview.metadata == ImageMetadata())
    }

    @Test func fullRangeSixteenBitIsAPlainConversion() throws {
        let values: [UInt16] = (0..<3000).map { UInt16($0 * 21) }  // 0 … 62979: the 99.9th percentile is near the top
        let image = try RasterImage(width: 1000, height: 1, channels: 3, samples: .uint16(values))
        let preview = image.displayPreview()
        guard case .uint8(let out) = preview.samples else { Issue.record("not 8-bit"); return }
        let white = 2996 * 21  // the 2997th smallest of the 3000 samples
        for (value, shown) in zip(values, out) {
            #expect(Int(shown) == min(255, (Int(value) * 255 + white / 2) / white))
        }
    }

    @Test func twelveBitDataInSixteenBitsIsStretched() throws {
        // 12-bit data (0…4095) stored as is: a plain conversion would show it nearly black.
        let values: [UInt16] = (0..<4096).map { UInt16($0) }
        let image = try RasterImage(width: 4096, height: 1, channels: 1, samples: .uint16(values))
        guard case .uint8(let out) = image.displayPreview().samples else { Issue.record("not 8-bit"); return }
        #expect(out.max() == 255 && out[4096 / 2] >= 126 && out[4096 / 2] <= 129)
        #expect(out[0] == 0)
    }

    @Test func alphaIsConvertedNotStretched() throws {
        let image = try RasterImage(width: 1, height: 2, channels: 2, samples: .uint16([1000, 65535, 1000, 32896]))
        guard case .uint8(let out) = image.displayPreview().samples else { Issue.record("not 8-bit"); return }
        #expect(out[1] == 255 && out[3] == 128)
    }
}
