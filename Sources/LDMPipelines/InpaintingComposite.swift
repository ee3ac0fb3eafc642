import LDMImageIO

/// Turning files into the pipeline's mask and its result back into a file-ready raster.
public enum InpaintingImages {
    /// Mask values in [0, 1] (≥ 0.5 = repaint) from a mask raster: gray as is, colour through
    /// ITU-R 601 luma (PIL's `convert("L")`, which inpaint.py uses); alpha ignored. With `resizeTo`,
    /// nearest-neighbour resizing to that size (keeps the mask binary).
    public static func mask(_ raster: RasterImage, resizeTo size: (width: Int, height: Int)? = nil) -> [Float] {
        let (w, h) = (raster.width, raster.height)
        let (tw, th) = size ?? (w, h)
        let maxValue = Float(raster.maxValue)
        var out = [Float](repeating: 0, count: tw * th)
        for y in 0..<th {
            for x in 0..<tw {
                let (sx, sy) = (x * w / tw, y * h / th)
                let value: Float
                if raster.channels >= 3 {
                    value = (299 * Float(raster.sample(x: sx, y: sy, channel: 0)) + 587 * Float(raster.sample(x: sx, y: sy, channel: 1))
                             + 114 * Float(raster.sample(x: sx, y: sy, channel: 2))) / 1000
                } else {
                    value = Float(raster.sample(x: sx, y: sy, channel: 0))
                }
                out[y * tw + x] = value / maxValue
            }
        }
        return out
    }

    /// The source with only the masked pixels replaced by the (rounded) result, at the source's bit
    /// depth and channel layout: unmasked pixels and the alpha channel are copied bit for bit.
    public static func composite(_ source: RasterImage, result: PlanarImage, mask: [Float]) -> RasterImage {
        let filled = result.raster(bitDepth: source.bitDepth, channels: source.channels)
        let colour = source.hasAlpha ? source.channels - 1 : source.channels
        func merge<T>(_ a: [T], _ b: [T]) -> [T] {
            var out = a
            for p in 0..<(source.width * source.height) where mask[p] >= 0.5 {
                for c in 0..<colour { out[p * source.channels + c] = b[p * source.channels + c] }
            }
            return out
        }
        let samples: RasterImage.Samples
        switch (source.samples, filled.samples) {
        case (.uint8(let a), .uint8(let b)): samples = .uint8(merge(a, b))
        case (.uint16(let a), .uint16(let b)): samples = .uint16(merge(a, b))
        default: return filled
        }
        return (try? RasterImage(width: source.width, height: source.height, channels: source.channels, samples: samples)) ?? filled
    }
}
