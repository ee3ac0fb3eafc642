/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to appear upright.
///
/// Values follow the EXIF 2.3 specification, §4.6.4 A: 1 is upright, 2 mirrored left-right,
/// 3 rotated 180°, 4 mirrored top-bottom, 5 transposed, 6 needs 90° clockwise, 7 transversed,
/// 8 needs 90° counter-clockwise.
public enum ExifOrientation: UInt16, Sendable, CaseIterable {
    case up = 1, upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left

    /// Reads the tag from an EXIF payload (the TIFF structure after the "Exif\0\0" header).
    /// Returns nil when the payload is malformed or has no valid orientation; never reads out of bounds.
    public init?(exifPayload bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard b.count >= 8 else { return nil }
        let little: Bool
        switch (b[0], b[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ i: Int) -> Int? {
            guard i >= 0, i + 2 <= b.count else { return nil }
            return little ? Int(b[i]) | Int(b[i + 1]) << 8 : Int(b[i]) << 8 | Int(b[i + 1])
        }
        func u32(_ i: Int) -> Int? {
            guard let lo = u16(little ? i : i + 2), let hi = u16(little ? i + 2 : i) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            // Orientation is a SHORT (type 3) with count 1; its value sits in the first two value bytes.
            if tag == 0x0112, u16(at + 2) == 3, let value = u16(at + 8) {
                self.init(rawValue: UInt16(truncatingIfNeeded: value))
                return
            }
        }
        return nil
    }

    /// Whether width and height swap.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Source pixel (in the stored image of size w×h) shown at upright position (x, y).
    func source(x: Int, y: Int, width w: Int, height h: Int) -> (Int, Int) {
        switch self {
        case .up: (x, y)
        case .upMirrored: (w - 1 - x, y)
        case .down: (w - 1 - x, h - 1 - y)
        case .downMirrored: (x, h - 1 - y)
        case .leftMirrored: (y, x)
        case .right: (y, h - 1 - x)
        case .rightMirrored: (w - 1 - y, h - 1 - x)
        case .left: (w - 1 - y, x)
        }
    }

    /// The raster turned upright.
    public func uprighted(_ image: RasterImage) -> RasterImage {
        guard self != .up else { return image }
        let (w, h, c) = (image.width, image.height, image.channels)
        let (outW, outH) = swapsAxes ? (h, w) : (w, h)
        func remap<T>(_ s: [T]) -> [T] {
            var out = s
            for y in 0..<outH {
                for x in 0..<outW {
                    let (sx, sy) = source(x: x, y: y, width: w, height: h)
                    let from = (sy * w + sx) * c, to = (y * outW + x) * c
                    for k in 0..<c { out[to + k] = s[from + k] }
                }
            }
            return out
        }
        var result = switch image.samples {
        case .uint8(let s): RasterImage(unchecked: outW, height: outH, channels: c, samples: .uint8(remap(s)))
        case .uint16(let s): RasterImage(unchecked: outW, height: outH, channels: c, samples: .uint16(remap(s)))
        }
        result.metadata = image.metadata
        return result
    }
}
