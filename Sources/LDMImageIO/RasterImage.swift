/// An image exactly as a file holds it: integer samples, interleaved, row-major, top row first.
///
/// `channels` is 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA); samples are 8 or 16 bit. Nothing
/// is converted on read beyond what the format forces (palette → RGB, EXIF orientation applied), so
/// a 16-bit gray PNG stays a 16-bit gray raster and can be written back unchanged.
public struct RasterImage: Sendable, Equatable {
    /// Sample storage; the case is the bit depth.
    public enum Samples: Sendable, Equatable {
        case uint8([UInt8])
        case uint16([UInt16])

        public var count: Int {
            switch self {
            case .uint8(let s): s.count
            case .uint16(let s): s.count
            }
        }
    }

    public let width: Int
    public let height: Int
    public let channels: Int
    public private(set) var samples: Samples
    /// Colour profile and provenance text, read from and written to the file. Kept by bit-depth
    /// conversion, alpha removal and EXIF uprighting (same colour space, same picture); a pixel
    /// transform that changes that is responsible for replacing it. Part of equality.
    public var metadata = ImageMetadata()

    /// 8 or 16.
    public var bitDepth: Int {
        if case .uint8 = samples { return 8 }
        return 16
    }

    /// Whether the last channel is alpha (2 or 4 channels).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// Largest sample value: 255 or 65535.
    public var maxValue: Int { bitDepth == 8 ? 255 : 65535 }

    /// Creates a raster, checking that the sample count matches the geometry.
    public init(width: Int, height: Int, channels: Int, samples: Samples,
                metadata: ImageMetadata = ImageMetadata()) throws(ImageIOError) {
        guard width > 0, height > 0, (1...4).contains(channels) else {
            throw .invalidRaster("a raster needs positive dimensions and 1 to 4 channels, got \(width)x\(height)x\(channels)")
        }
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        let (count, overflow2) = product.multipliedReportingOverflow(by: channels)
        guard !overflow, !overflow2, count == samples.count else {
            throw .invalidRaster("a \(width)x\(height)x\(channels) raster needs \(product &* channels) samples, got \(samples.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
        self.metadata = metadata
    }

    /// Sample at (x, y, channel), as an integer in 0...maxValue. For tests and small tools, not hot loops.
    public func sample(x: Int, y: Int, channel: Int) -> Int {
        let i = (y * width + x) * channels + channel
        switch samples {
        case .uint8(let s): return Int(s[i])
        case .uint16(let s): return Int(s[i])
        }
    }

    /// The same pixels at another bit depth (8 ↔ 16 scale by 257, rounding when narrowing).
    public func converted(toBitDepth depth: Int) -> RasterImage {
        switch (samples, depth) {
        case (.uint8(let s), 16):
            return RasterImage(unchecked: self, samples: .uint16(s.map { UInt16($0) &* 257 }))
        case (.uint16(let s), 8):
            // round(v / 257) for v in 0...65535, in integers.
            return RasterImage(unchecked: self, samples: .uint8(s.map { UInt8((UInt32($0) + 128) / 257) }))
        default:
            return self
        }
    }

    /// The same pixels without the alpha channel (no-op when there is none).
    public func droppingAlpha() -> RasterImage {
        guard hasAlpha else { return self }
        let keep = channels - 1
        func strip<T>(_ s: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(width * height * keep)
            for p in 0..<(width * height) {
                out.append(contentsOf: s[(p * channels)..<(p * channels + keep)])
            }
            return out
        }
        let newSamples: Samples
        switch samples {
        case .uint8(let s): newSamples = .uint8(strip(s))
        case .uint16(let s): newSamples = .uint16(strip(s))
        }
        var result = RasterImage(unchecked: width, height: height, channels: keep, samples: newSamples)
        result.metadata = metadata
        return result
    }

    init(unchecked width: Int, height: Int, channels: Int, samples: Samples) {
        precondition(width * height * channels == samples.count)
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    private init(unchecked other: RasterImage, samples: Samples) {
        self.init(unchecked: other.width, height: other.height, channels: other.channels, samples: samples)
        metadata = other.metadata
    }
}
