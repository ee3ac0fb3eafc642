/// An image as floats in [0, 1]: three planes (R, G, B) and an optional alpha plane.
///
/// This is the meeting point between files and computation: the pipelines turn it into tensors, the
/// resampler works on it. Gray inputs become three equal planes; their gray-ness is remembered by
/// the caller through the source raster's channel count.
public struct PlanarImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// R plane, then G, then B: 3 * width * height values, row-major.
    public var rgb: [Float]
    /// width * height values, or nil when the image is opaque.
    public var alpha: [Float]?

    public init(width: Int, height: Int, rgb: [Float], alpha: [Float]? = nil) {
        precondition(width > 0 && height > 0 && rgb.count == 3 * width * height)
        precondition(alpha == nil || alpha!.count == width * height)
        self.width = width
        self.height = height
        self.rgb = rgb
        self.alpha = alpha
    }

    /// Samples divided by 255 or 65535 (correctly rounded; the inverse below recovers every integer).
    public init(_ raster: RasterImage) {
        let (w, h, c) = (raster.width, raster.height, raster.channels)
        let n = w * h
        let maxValue = Float(raster.maxValue)
        var rgb = [Float](repeating: 0, count: 3 * n)
        var alpha: [Float]? = raster.hasAlpha ? [Float](repeating: 0, count: n) : nil
        let colour = c >= 3 ? 3 : 1
        func fill<T: BinaryInteger>(_ s: [T]) {
            for p in 0..<n {
                for k in 0..<3 { rgb[k * n + p] = Float(s[p * c + (colour == 3 ? k : 0)]) / maxValue }
                if alpha != nil { alpha![p] = Float(s[p * c + c - 1]) / maxValue }
            }
        }
        switch raster.samples {
        case .uint8(let s): fill(s)
        case .uint16(let s): fill(s)
        }
        self.init(width: w, height: h, rgb: rgb, alpha: alpha)
    }

    /// Quantises back to integers (round to nearest, ties to even; clamped to [0, 1]).
    ///
    /// - channels: 1 or 2 write luma (Rec. 601 weights; exact for gray-origin images), 3 or 4 RGB.
    ///   The alpha channel (2 or 4) is taken from `alpha`, or opaque when there is none.
    public func raster(bitDepth: Int, channels: Int) -> RasterImage {
        precondition(bitDepth == 8 || bitDepth == 16)
        precondition((1...4).contains(channels))
        let n = width * height
        let maxValue = Float(bitDepth == 8 ? 255 : 65535)
        let colour = channels >= 3 ? 3 : 1
        let withAlpha = channels == 2 || channels == 4
        var values = [UInt16](repeating: 0, count: n * channels)
        // Round half to even, as numpy's round() in the references' postprocessing.
        func quantise(_ v: Float) -> UInt16 {
            UInt16((min(max(v, 0), 1) * maxValue).rounded(.toNearestOrEven))
        }
        for p in 0..<n {
            let r = rgb[p], g = rgb[n + p], b = rgb[2 * n + p]
            if colour == 3 {
                values[p * channels] = quantise(r)
                values[p * channels + 1] = quantise(g)
                values[p * channels + 2] = quantise(b)
            } else {
                values[p * channels] = r == g && g == b ? quantise(r) : quantise(0.299 * r + 0.587 * g + 0.114 * b)
            }
            if withAlpha { values[p * channels + channels - 1] = alpha.map { quantise($0[p]) } ?? UInt16(maxValue) }
        }
        let samples: RasterImage.Samples = bitDepth == 8 ? .uint8(values.map { UInt8($0) }) : .uint16(values)
        return RasterImage(unchecked: width, height: height, channels: channels, samples: samples)
    }
}
