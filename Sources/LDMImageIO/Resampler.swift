import LDMParallel

/// Interpolation kernels for classical resizing.
public enum ResamplingFilter: String, Sendable, CaseIterable {
    /// Keys' cubic convolution with a = -0.5 (Keys 1981; the "bicubic" of Pillow and libvips).
    case bicubic
    /// Lanczos with three lobes: sinc(x)·sinc(x/3), |x| < 3.
    case lanczos

    /// Half-width of the kernel in source pixels at scale 1.
    public var support: Double {
        switch self {
        case .bicubic: 2
        case .lanczos: 3
        }
    }

    /// Kernel value at distance `x` (in source pixels at scale 1).
    public func weight(_ x: Double) -> Double {
        let t = abs(x)
        switch self {
        case .bicubic:
            let a = -0.5
            if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
            return 0
        case .lanczos:
            if t == 0 { return 1 }
            if t >= 3 { return 0 }
            let px = Double.pi * t
            return 3 * sin(px) * sin(px / 3) / (px * px)
        }
    }
}

/// Separable resizing of planar float images.
///
/// Geometry follows pixel centres: output pixel i samples the source at (i + 0.5)·in/out − 0.5, so
/// a 4x upscale is centred, not shifted. When shrinking, the kernel is stretched by in/out so it
/// averages over the pixels it replaces (no aliasing). Taps that fall outside the image read the
/// nearest edge pixel (edge replication), and each output's weights are normalised to sum to 1, so a
/// constant image stays constant up to the border.
public enum Resampler {
    /// Resizes RGB and alpha. With alpha, colours are resampled premultiplied so the colour of
    /// transparent pixels cannot bleed into visible ones.
    /// - image: [3, H, W] (+ [H, W] alpha) → [3, height, width] (+ alpha)
    public static func resize(_ image: PlanarImage, width: Int, height: Int, filter: ResamplingFilter) -> PlanarImage {
        precondition(width > 0 && height > 0)
        let n = image.width * image.height, m = width * height
        let horizontal = Taps(input: image.width, output: width, filter: filter)
        let vertical = Taps(input: image.height, output: height, filter: filter)
        var source = image.rgb
        if let alpha = image.alpha {
            for k in 0..<3 { for p in 0..<n { source[k * n + p] *= alpha[p] } }
        }
        var rgb = [Float](repeating: 0, count: 3 * m)
        var scratch = [Float](repeating: 0, count: image.height * width)
        for k in 0..<3 {
            source.withUnsafeBufferPointer { src in
                rgb.withUnsafeMutableBufferPointer { dst in
                    scratch.withUnsafeMutableBufferPointer { tmp in
                        resizePlane(UnsafeBufferPointer(rebasing: src[(k * n)..<((k + 1) * n)]),
                                    width: image.width, height: image.height,
                                    into: UnsafeMutableBufferPointer(rebasing: dst[(k * m)..<((k + 1) * m)]),
                                    horizontal: horizontal, vertical: vertical, scratch: tmp)
                    }
                }
            }
        }
        var alphaOut: [Float]? = nil
        if let alpha = image.alpha {
            var a = [Float](repeating: 0, count: m)
            alpha.withUnsafeBufferPointer { src in
                a.withUnsafeMutableBufferPointer { dst in
                    scratch.withUnsafeMutableBufferPointer { tmp in
                        resizePlane(src, width: image.width, height: image.height, into: dst,
                                    horizontal: horizontal, vertical: vertical, scratch: tmp)
                    }
                }
            }
            for p in 0..<m {
                // Overshoot of the cubic/Lanczos kernels is clipped before un-premultiplying.
                let alphaValue = min(max(a[p], 0), 1)
                a[p] = alphaValue
                for k in 0..<3 { rgb[k * m + p] = alphaValue > 0 ? rgb[k * m + p] / alphaValue : 0 }
            }
            alphaOut = a
        }
        return PlanarImage(width: width, height: height, rgb: rgb, alpha: alphaOut)
    }

    /// One plane: horizontal pass into `scratch`, then vertical pass into `output`.
    /// - input: [H, W], scratch: [H, outW] → output: [outH, outW]
    static func resizePlane(_ input: UnsafeBufferPointer<Float>, width: Int, height: Int,
                            into output: UnsafeMutableBufferPointer<Float>,
                            horizontal: Taps, vertical: Taps, scratch: UnsafeMutableBufferPointer<Float>) {
        let outW = horizontal.outputCount, outH = vertical.outputCount
        precondition(input.count == width * height && output.count == outW * outH && scratch.count >= height * outW)
        let src = input.baseAddress!, tmp = scratch.baseAddress!, dst = output.baseAddress!
        horizontal.index.withUnsafeBufferPointer { hIndex in
            horizontal.weight.withUnsafeBufferPointer { hWeight in
                let taps = horizontal.taps
                Parallel.forEach(height, minimumChunk: 16) { rows in
                    for y in rows {
                        let row = src + y * width, out = tmp + y * outW
                        for x in 0..<outW {
                            var sum: Float = 0
                            for t in 0..<taps { sum += hWeight[x * taps + t] * row[Int(hIndex[x * taps + t])] }
                            out[x] = sum
                        }
                    }
                }
            }
        }
        vertical.index.withUnsafeBufferPointer { vIndex in
            vertical.weight.withUnsafeBufferPointer { vWeight in
                let taps = vertical.taps
                Parallel.forEach(outH, minimumChunk: 16) { rows in
                    for y in rows {
                        let out = dst + y * outW
                        for x in 0..<outW { out[x] = 0 }
                        for t in 0..<taps {
                            let w = vWeight[y * taps + t], row = tmp + Int(vIndex[y * taps + t]) * outW
                            for x in 0..<outW { out[x] += w * row[x] }
                        }
                    }
                }
            }
        }
    }

    /// Source indices and weights for every output position along one axis, `taps` per output.
    struct Taps {
        let outputCount: Int
        let taps: Int
        var index: [Int32]
        var weight: [Float]

        init(input: Int, output: Int, filter: ResamplingFilter) {
            let scale = Double(input) / Double(output)
            let stretch = max(scale, 1)
            let support = filter.support * stretch
            let taps = Int((2 * support).rounded(.up)) + 1
            var index = [Int32](repeating: 0, count: output * taps)
            var weight = [Float](repeating: 0, count: output * taps)
            var raw = [Double](repeating: 0, count: taps)
            for i in 0..<output {
                let centre = (Double(i) + 0.5) * scale - 0.5
                let first = Int((centre - support).rounded(.up))
                var total = 0.0
                for t in 0..<taps {
                    raw[t] = filter.weight((Double(first + t) - centre) / stretch)
                    total += raw[t]
                }
                for t in 0..<taps {
                    index[i * taps + t] = Int32(min(max(first + t, 0), input - 1))
                    weight[i * taps + t] = Float(raw[t] / total)
                }
            }
            self.outputCount = output
            self.taps = taps
            self.index = index
            self.weight = weight
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Resampler {
    /// Resizes a raster, keeping its channel layout and bit depth.
    public static func resize(_ image: RasterImage, width: Int, height: Int, filter: ResamplingFilter) -> RasterImage {
        let planar = resize(PlanarImage(image), width: width, height: height, filter: filter)
        return planar.raster(bitDepth: image.bitDepth, channels: image.channels)
    }
}
