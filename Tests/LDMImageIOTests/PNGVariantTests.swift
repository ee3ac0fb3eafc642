import Testing
@testable import LDMImageIO

/// PNG variants the writer never produces: palette (+tRNS), low bit depths, interlacing.
@Suite struct PNGVariantTests {
    let scratch = ScratchFolder()

    func decode(_ bytes: [UInt8]) throws -> RasterImage {
        try ImageFile.read(scratch.write(bytes, to: "v.png"))
    }

    @Test(arguments: [false, true])
    func rgb8MatchesSamples(interlaced: Bool) throws {
        for (w, h) in [(1, 1), (3, 7), (17, 5), (9, 9)] {
            let image = TestImages.random(width: w, height: h, channels: 3, bitDepth: 8)
            guard case .uint8(let s) = image.samples else { return }
            let rows = (0..<h).map { y in s[(y * w * 3)..<((y + 1) * w * 3)].map(Int.init) }
            let png = TestPNGEncoder.encode(width: w, height: h, bitDepth: 8, colorType: 2, samplesPerPixel: 3,
                                            rows: rows, interlaced: interlaced)
            #expect(try decode(png) == image, "\(w)x\(h) interlaced=\(interlaced)")
        }
    }

    @Test(arguments: [1, 2, 4])
    func lowBitGrayIsScaledTo8Bit(bitDepth: Int) throws {
        let (w, h) = (11, 3)
        let levels = 1 << bitDepth
        let rows = (0..<h).map { y in (0..<w).map { x in (x + y) % levels } }
        for interlaced in [false, true] {
            let png = TestPNGEncoder.encode(width: w, height: h, bitDepth: bitDepth, colorType: 0, samplesPerPixel: 1,
                                            rows: rows, interlaced: interlaced)
            let image = try decode(png)
            #expect(image.channels == 1 && image.bitDepth == 8)
            for y in 0..<h {
                for x in 0..<w { #expect(image.sample(x: x, y: y, channel: 0) == rows[y][x] * 255 / (levels - 1)) }
            }
        }
    }

    @Test func gray16AndGrayAlpha16() throws {
        let rows = [[0, 65535, 1234, 40000], [65535, 0, 7, 300]]
        let gray = try decode(TestPNGEncoder.encode(width: 4, height: 2, bitDepth: 16, colorType: 0, samplesPerPixel: 1,
                                                    rows: rows))
        #expect(gray.samples == .uint16(rows.flatMap { $0.map(UInt16.init) }))
        let ga = try decode(TestPNGEncoder.encode(width: 2, height: 2, bitDepth: 16, colorType: 4, samplesPerPixel: 2,
                                                  rows: rows, interlaced: true))
        #expect(ga.channels == 2 && ga.samples == .uint16(rows.flatMap { $0.map(UInt16.init) }))
    }

    @Test func paletteExpandsToRGB() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
        let rows = [[0, 1, 2, 3, 0], [3, 2, 1, 0, 1]]
        for depth in [2, 8] {
            let image = try decode(TestPNGEncoder.encode(width: 5, height: 2, bitDepth: depth, colorType: 3,
                                                         samplesPerPixel: 1, rows: rows, palette: palette))
            #expect(image.channels == 3 && image.bitDepth == 8)
            for y in 0..<2 {
                for x in 0..<5 {
                    let p = palette[rows[y][x]]
                    #expect([0, 1, 2].map { image.sample(x: x, y: y, channel: $0) } == [Int(p.0), Int(p.1), Int(p.2)])
                }
            }
        }
    }

    @Test func paletteTransparencyBecomesAlpha() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(1, 2, 3), (4, 5, 6)]
        let image = try decode(TestPNGEncoder.encode(width: 2, height: 1, bitDepth: 8, colorType: 3, samplesPerPixel: 1,
                                                     rows: [[0, 1]], palette: palette, transparency: [128]))
        #expect(image.channels == 4)
        #expect(image.samples == .uint8([1, 2, 3, 128, 4, 5, 6, 255]))
    }
}
