import LDMParallel
import Testing
@testable import LDMImageIO

@Suite struct ResamplerTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        let w, h, outW, outH: Int
        var testDescription: String { "\(w)x\(h)→\(outW)x\(outH)" }
    }

    /// Odd, prime, 1-sized, up, down and mixed.
    static let shapes = [Shape(w: 1, h: 1, outW: 4, outH: 4), Shape(w: 3, h: 7, outW: 12, outH: 28),
                         Shape(w: 17, h: 5, outW: 68, outH: 20), Shape(w: 13, h: 11, outW: 5, outH: 3),
                         Shape(w: 40, h: 33, outW: 7, outH: 61), Shape(w: 2, h: 9, outW: 1, outH: 1),
                         Shape(w: 64, h: 48, outW: 64, outH: 48)]

    static func plane(_ w: Int, _ h: Int) -> [Float] {
        (0..<(w * h)).map { Float(($0 * 7919) % 101) / 100 }
    }

    /// The fast two-pass resampler against the direct 2-D twin, with 1 and 2 threads.
    @Test(arguments: ResamplingFilter.allCases, shapes)
    func matchesNaiveTwin(_ filter: ResamplingFilter, _ s: Shape) {
        let input = Self.plane(s.w, s.h)
        let expected = NaiveResampler.resize(input, width: s.w, height: s.h, to: s.outW, s.outH, filter: filter)
        var byThreads: [[Float]] = []
        for threads in [1, 2] {
            let image = PlanarImage(width: s.w, height: s.h, rgb: input + input + input)
            let observer = ThreadObserver()
            let out = Parallel.run(threads: threads, observer: observer) {
                Resampler.resize(image, width: s.outW, height: s.outH, filter: filter)
            }
            #expect(observer.loopCount > 0 && observer.maximumChunks <= threads)
            let n = s.outW * s.outH
            let maxError = zip(out.rgb[0..<n], expected).map { abs($0 - $1) }.max() ?? 0
            #expect(maxError < 1e-5, "max abs error \(maxError)")
            #expect(out.rgb[0..<n] == out.rgb[n..<(2 * n)])
            byThreads.append(out.rgb)
        }
        #expect(byThreads[0] == byThreads[1], "results must not depend on the thread count")
    }

    @Test(arguments: ResamplingFilter.allCases)
    func constantsStayConstant(_ filter: ResamplingFilter) {
        for s in Self.shapes {
            let image = PlanarImage(width: s.w, height: s.h, rgb: [Float](repeating: 0.375, count: 3 * s.w * s.h))
            let out = Resampler.resize(image, width: s.outW, height: s.outH, filter: filter)
            #expect(out.rgb.allSatisfy { abs($0 - 0.375) < 1e-6 }, "\(s.testDescription)")
        }
    }

    /// Cubic convolution with a = -0.5 reproduces quadratics exactly (Keys 1981), so away from the
    /// borders a 4x upscale of a linear ramp is the ramp sampled at the output pixel centres.
    @Test func bicubicReproducesLinearRampsInTheInterior() {
        let w = 16
        let ramp = (0..<w).map { Float($0) / Float(w) }
        let image = PlanarImage(width: w, height: 1, rgb: ramp + ramp + ramp)
        let out = Resampler.resize(image, width: 4 * w, height: 4, filter: .bicubic)
        for x in 8..<(4 * w - 8) {
            let centre = (Float(x) + 0.5) / 4 - 0.5
            #expect(abs(out.rgb[x] - centre / Float(w)) < 1e-5)
        }
    }

    /// Shrinking averages: a 1-pixel checkerboard halved is flat grey, not aliased.
    @Test(arguments: ResamplingFilter.allCases)
    func downscalingFiltersHighFrequencies(_ filter: ResamplingFilter) {
        let (w, h) = (32, 32)
        let checker = (0..<(w * h)).map { Float(($0 % w + $0 / w) % 2) }
        let out = Resampler.resize(PlanarImage(width: w, height: h, rgb: checker + checker + checker),
                                   width: w / 4, height: h / 4, filter: filter)
        let interior = (2..<6).flatMap { y in (2..<6).map { x in out.rgb[y * (w / 4) + x] } }
        #expect(interior.allSatisfy { abs($0 - 0.5) < 0.02 }, "\(interior)")
    }

    /// Premultiplied resampling: the colour under fully transparent pixels does not leak.
    @Test func alphaDoesNotBleedHiddenColour() {
        // Left half opaque white, right half transparent but "red" underneath.
        let (w, h) = (8, 2)
        var rgb = [Float](repeating: 1, count: 3 * w * h)
        var alpha = [Float](repeating: 1, count: w * h)
        for y in 0..<h {
            for x in (w / 2)..<w {
                alpha[y * w + x] = 0
                rgb[w * h + y * w + x] = 0  // green 0
                rgb[2 * w * h + y * w + x] = 0  // blue 0
            }
        }
        let out = Resampler.resize(PlanarImage(width: w, height: h, rgb: rgb, alpha: alpha), width: 4 * w, height: 4 * h,
                                   filter: .lanczos)
        let m = 16 * w * h
        for p in 0..<m where out.alpha![p] > 0.01 {
            #expect(out.rgb[m + p] > 0.99 && out.rgb[2 * m + p] > 0.99, "pixel \(p) picked up hidden red")
        }
        #expect(out.alpha!.allSatisfy { (0...1).contains($0) })
    }

    @Test func rasterResizeKeepsLayout() {
        for (channels, depth) in [(1, 8), (2, 16), (3, 8), (4, 16)] {
            let raster = TestImages.random(width: 5, height: 3, channels: channels, bitDepth: depth)
            let out = Resampler.resize(raster, width: 20, height: 12, filter: .bicubic)
            #expect(out.width == 20 && out.height == 12 && out.channels == channels && out.bitDepth == depth)
        }
    }
}
