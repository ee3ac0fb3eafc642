import Testing
@testable import LDMImageIO

@Suite struct PlanarImageTests {
    /// Every 8-bit and every 16-bit value survives integer → float → integer.
    @Test(arguments: [8, 16])
    func everyValueRoundTrips(bitDepth: Int) {
        let count = bitDepth == 8 ? 256 : 65536
        let values = (0..<count).map { UInt16($0) }
        let samples: RasterImage.Samples = bitDepth == 8 ? .uint8(values.map { UInt8($0) }) : .uint16(values)
        for channels in 1...4 {
            let width = count / 4 / channels * channels == 0 ? 1 : count / channels
            let raster = RasterImage(unchecked: width, height: 1, channels: channels,
                                     samples: bitDepth == 8 ? .uint8(Array(values.prefix(width * channels).map { UInt8($0) }))
                                                            : .uint16(Array(values.prefix(width * channels))))
            let back = PlanarImage(raster).raster(bitDepth: bitDepth, channels: channels)
            #expect(back == raster, "\(channels) channels")
        }
        let gray = RasterImage(unchecked: count, height: 1, channels: 1, samples: samples)
        let planar = PlanarImage(gray)
        #expect(planar.rgb[0..<count] == planar.rgb[count..<(2 * count)])
        #expect(planar.rgb.min() == 0 && planar.rgb.max() == 1)
    }

    @Test func layoutIsPlanarWithSeparateAlpha() {
        let raster = RasterImage(unchecked: 2, height: 1, channels: 4, samples: .uint8([255, 0, 51, 102, 0, 255, 0, 255]))
        let planar = PlanarImage(raster)
        #expect(planar.rgb == [1, 0, 0, 1, 0.2, 0])
        #expect(planar.alpha == [0.4, 1])
        #expect(PlanarImage(raster.droppingAlpha()).alpha == nil)
    }

    @Test func outOfRangeValuesAreClampedAndMissingAlphaIsOpaque() {
        let planar = PlanarImage(width: 2, height: 1, rgb: [-0.5, 1.5, 0.5, 0.5, 0, 1])
        #expect(planar.raster(bitDepth: 8, channels: 3).samples == .uint8([0, 128, 0, 255, 128, 255]))
        #expect(planar.raster(bitDepth: 8, channels: 4).samples == .uint8([0, 128, 0, 255, 255, 128, 255, 255]))
        // Colour to gray uses Rec. 601 luma.
        let red = PlanarImage(width: 1, height: 1, rgb: [1, 0, 0])
        #expect(red.raster(bitDepth: 8, channels: 1).samples == .uint8([76]))
    }
}
