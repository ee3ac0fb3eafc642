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

    /// Inverts (white ↔ black) and dilates (grows the repaint region by `radius` pixels, square
    /// neighbourhood) a mask; values are binarised at 0.5 first.
    public static func adjust(_ mask: [Float], width: Int, height: Int, invert: Bool, dilate radius: Int) -> [Float] {
        var binary = mask.map { ($0 >= 0.5) != invert ? Float(1) : 0 }
        guard radius > 0 else { return binary }
        // Separable max filter: rows, then columns.
        var rows = binary
        for y in 0..<height {
            for x in 0..<width where binary[y * width + x] == 0 {
                let lo = max(0, x - radius), hi = min(width - 1, x + radius)
                if (lo...hi).contains(where: { binary[y * width + $0] == 1 }) { rows[y * width + x] = 1 }
            }
        }
        binary = rows
        for x in 0..<width {
            for y in 0..<height where rows[y * width + x] == 0 {
                let lo = max(0, y - radius), hi = min(height - 1, y + radius)
                if (lo...hi).contains(where: { rows[$0 * width + x] == 1 }) { binary[y * width + x] = 1 }
            }
        }
        return binary
    }

    /// Reasons a mask looks wrong (before binarisation): nothing to repaint, everything, more than
    /// half, or soft edges (many grey values, as from anti-aliased brushes).
    public static func warnings(_ mask: [Float]) -> [MaskWarning] {
        let n = Float(max(1, mask.count))
        let white = Float(mask.filter { $0 >= 0.5 }.count) / n
        let soft = Float(mask.filter { $0 > 0.05 && $0 < 0.95 }.count) / n
        var out: [MaskWarning] = []
        if white == 0 { out.append(.empty) }
        else if white == 1 { out.append(.allWhite) }
        else if white > 0.5 { out.append(.mostlyWhite(fraction: white)) }
        if soft > 0.01 { out.append(.soft(fraction: soft)) }
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
