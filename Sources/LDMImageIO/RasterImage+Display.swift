/// An 8-bit picture of a raster for a screen (the web page shows uploads and results this way; the edit
/// itself always runs on the raster at its own depth).
extension RasterImage {
    /// 8-bit samples unchanged; 16-bit samples tone-mapped linearly: the white point is the 99.9th
    /// percentile of the colour samples (alpha excluded), so a capture that fills only part of the 16-bit
    /// range (10- or 12-bit data, a dark linear scan) is shown bright, while one that uses the whole
    /// range is shown as a plain 16 → 8-bit conversion. The white point never goes below 1/64 of full
    /// scale (noise in a black frame stays black). Alpha is converted, not stretched. Metadata is dropped:
    /// a preview is not the image.
    public func displayPreview() -> RasterImage {
        guard case .uint16(let samples) = samples else {
            return RasterImage(unchecked: width, height: height, channels: channels, samples: self.samples)
        }
        let colour = hasAlpha ? channels - 1 : channels
        let white = Swift.max(Self.percentile999(samples, channels: channels, colour: colour), 65535 / 64)
        var out = [UInt8](repeating: 0, count: samples.count)
        for i in 0..<samples.count {
            let value = UInt32(samples[i])
            if i % channels < colour {
                // round(v · 255 / white), clamped: linear stretch to the white point.
                out[i] = UInt8(Swift.min(255, (value * 255 + UInt32(white) / 2) / UInt32(white)))
            } else {
                out[i] = UInt8((value + 128) / 257)
            }
        }
        return RasterImage(unchecked: width, height: height, channels: channels, samples: .uint8(out))
    }

    /// The 99.9th percentile of the colour samples, from a 65 536-bin histogram (exact, one pass).
    private static func percentile999(_ samples: [UInt16], channels: Int, colour: Int) -> Int {
        var histogram = [Int](repeating: 0, count: 65536)
        var count = 0
        for i in stride(from: 0, to: samples.count, by: channels) {
            for c in 0..<colour { histogram[Int(samples[i + c])] += 1 }
            count += colour
        }
        let target = count - count / 1000
        var seen = 0
        for value in 0..<65536 {
            seen += histogram[value]
            if seen >= target { return Swift.max(value, 1) }
        }
        return 65535
    }
}
