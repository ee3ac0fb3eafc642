import Foundation
import LDMParallel

/// 2-D convolution (cross-correlation, as PyTorch), NCHW, zero padding.
public enum Conv2d {
    /// Zero padding on each side. The VQ encoder's downsample pads (left 0, right 1, top 0, bottom 1).
    public struct Padding: Sendable, Equatable {
        public var top, left, bottom, right: Int
        public init(top: Int, left: Int, bottom: Int, right: Int) {
            (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
        }
        public static func symmetric(_ p: Int) -> Padding { Padding(top: p, left: p, bottom: p, right: p) }
        /// `F.pad(x, (0, 1, 0, 1))` before the VQ encoder's stride-2 conv (model.py Downsample).
        public static let bottomRight = Padding(top: 0, left: 0, bottom: 1, right: 1)
    }

    /// How a convolution is computed; chosen in `strategy(...)` only.
    public enum Strategy: Sendable, Equatable {
        /// 1x1, stride 1, no padding: one (tiled) GEMM per image, no data rearrangement.
        case pointwise
        /// Small outputs: im2col of the whole output into scratch, then one tiled GEMM (which
        /// splits the output channels, since the pixels are few).
        case im2colGEMM
        /// Large outputs: bands of output rows, each im2col'ed by one thread into its own scratch
        /// and multiplied by one single-threaded GEMM while the band is still in cache.
        case bandedIm2colGEMM(rowsPerBand: Int)
        /// 3×3, stride 1, padding 1 on outputs of at least `winogradMinimumPixels`: Winograd
        /// F(4×4, 3×3) in bands of tile rows (`Winograd`), 4× fewer multiplications.
        case winograd(tileRowsPerBand: Int)
    }

    /// Whether 3×3 convolutions may use Winograd: on unless the environment sets
    /// LDM_EDIT_WINOGRAD=0 (to compare whole-model timings and results with the direct path).
    public static let winogradEnabled: Bool = ProcessInfo.processInfo.environment["LDM_EDIT_WINOGRAD"] != "0"
    /// Smallest output (pixels) for Winograd: below it, transforming the weights on every call
    /// (36·O·C values) and GEMMs over fewer than 64 tiles cost more than the multiplications saved.
    /// Measured (docs/performance.md): 1024 beat 256 and 4096 on the SR and inpainting U-Nets.
    public static let winogradMinimumPixels = 1024

    /// Largest im2col block per thread, in floats (16 MiB): measured best of 4, 8 and 16 MiB on the
    /// 2-core machine (docs/performance.md); a 4096x4096 image never needs an H·W·C·9 buffer.
    public static let columnBudget = 4 << 20
    /// Fewest output pixels per band worth a separate GEMM (its weights are packed once per band).
    public static let minimumBandPixels = 256

    /// Output size for one spatial axis.
    public static func outputSize(_ input: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int) -> Int {
        (input + padBefore + padAfter - kernel) / stride + 1
    }

    /// The one place a convolution's strategy is decided, from the shapes only.
    public static func strategy(channels: Int, outputChannels: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Padding,
                                outputHeight: Int, outputWidth: Int, winograd: Bool = winogradEnabled) -> Strategy {
        if kernelH == 1, kernelW == 1, stride == 1, padding == .symmetric(0) { return .pointwise }
        if winograd, kernelH == 3, kernelW == 3, stride == 1, padding == .symmetric(1),
           outputHeight * outputWidth >= winogradMinimumPixels {
            return .winograd(tileRowsPerBand: Winograd.tileRowsPerBand(c: channels, o: outputChannels, h: outputHeight, w: outputWidth))
        }
        let floatsPerRow = channels * kernelH * kernelW * outputWidth
        let budgetRows = max(1, columnBudget / max(1, floatsPerRow))
        // At least four bands when the image allows it, so two or four threads share them evenly.
        let minimumRows = max(1, (minimumBandPixels + outputWidth - 1) / outputWidth)
        let rows = max(minimumRows, min(budgetRows, (outputHeight + 3) / 4))
        if rows >= outputHeight, outputHeight * floatsPerRow <= 4 * columnBudget { return .im2colGEMM }
        return .bandedIm2colGEMM(rowsPerBand: min(rows, outputHeight))
    }

    /// y = conv2d(x, weight) + bias.
    /// - x: [N, C, H, W], weight: [O, C, kH, kW], bias: [O] → y: [N, O, Ho, Wo],
    ///   Ho = (H + top + bottom − kH) / stride + 1, likewise Wo.
    /// Naive twin: `Naive.conv2d` in LDMTestSupport.
    /// `winograd: false` forces the direct (im2col) path, for tests and comparisons.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), into y: Tensor,
                               workspace: Workspace, winograd: Bool = winogradEnabled) throws(TensorError) {
        try forward(x, weight: WeightTensor(weight), bias: bias, stride: stride, padding: padding, into: y,
                    workspace: workspace, winograd: winograd)
    }

    /// The same convolution with the weight as held (`WeightTensor`). On the pointwise and im2col paths the weight is
    /// the left operand of `BLAS.sgemm(weight:…)`, so 16-bit weights are widened per GEMM tile where the tiles split
    /// the output channels (the 16² and 8² levels: SD's 1280-channel 3×3 weights, 118 MB as Float32, are then never
    /// written out whole); Winograd widens them block by block inside its weight transform, only the banded path
    /// (large strided or non-3×3 convolutions) widens them whole (`float32(in:)`). The same bits as `forward`
    /// on the widened weight (`Conv2dWeightTests`).
    /// - x: [N, C, H, W], weight: [O, C, kH, kW], bias: [O] → y: [N, O, Ho, Wo]
    public static func forward(_ x: Tensor, weight: WeightTensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), into y: Tensor,
                               workspace: Workspace, winograd: Bool = winogradEnabled) throws(TensorError) {
        try convolve(x, weight: weight, bias: bias, stride: stride, padding: padding, into: y, workspace: workspace,
                     winograd: winograd, groupColumns: 4 * columnBudget)
    }

    /// `forward`'s work. - groupColumns: the most floats of im2col columns one group of images may take on the
    /// `.im2colGEMM` path (tests make it small to exercise several groups).
    static func convolve(_ x: Tensor, weight: WeightTensor, bias: Tensor?, stride: Int, padding: Padding, into y: Tensor,
                         workspace: Workspace, winograd: Bool, groupColumns: Int) throws(TensorError) {
        let op = "conv2d"
        guard x.rank == 4, weight.rank == 4 else {
            throw .invalidArgument(operation: op, reason: "x \(x.shape) and weight \(weight.shape) must be 4-D")
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        try weight.expect([o, c, kh, kw], op, "weight")
        if let bias { try bias.expect([o], op, "bias") }
        guard stride >= 1, min(padding.top, padding.left, padding.bottom, padding.right) >= 0 else {
            throw .invalidArgument(operation: op, reason: "stride \(stride) and padding \(padding) must be positive / non-negative")
        }
        let ho = outputSize(h, kernel: kh, stride: stride, padBefore: padding.top, padAfter: padding.bottom)
        let wo = outputSize(w, kernel: kw, stride: stride, padBefore: padding.left, padAfter: padding.right)
        guard ho >= 1, wo >= 1 else {
            throw .invalidArgument(operation: op, reason: "kernel \(kh)x\(kw) does not fit a padded \(h)x\(w) input")
        }
        try y.expect([n, o, ho, wo], op, "output")

        let pixels = ho * wo
        let g = Geometry(c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo)
        let k = c * kh * kw
        let beta: Float = bias == nil ? 0 : 1
        switch strategy(channels: c, outputChannels: o, kernelH: kh, kernelW: kw, stride: stride, padding: padding,
                        outputHeight: ho, outputWidth: wo, winograd: winograd) {
        case .winograd(let rows):
            let u = try workspace.scratch(.winogradWeights, count: Winograd.positions * o * c)
            Winograd.transformWeights(weight, o: o, c: c, into: u)
            let scratch = try workspace.scratch(.columns, count: Winograd.Shape(c: c, h: h, w: w, o: o).scratchCount(rowsPerBand: rows))
            for image in 0..<n {
                Winograd.forward(x.data + image * c * h * w, c: c, h: h, w: w, u: u, o: o, bias: bias?.data,
                                 y: y.data + image * o * pixels, scratch: scratch, rowsPerBand: rows)
            }
        case .pointwise:
            // Bias first, then the GEMMs accumulate onto it (beta = 1): no separate bias pass.
            for image in 0..<n { fillBias(y.data + image * o * pixels, bias: bias, channels: o, pixels: pixels) }
            try BLAS.sgemm(weight: weight, side: .left, m: o, n: pixels, k: c, other: x.data, ldOther: pixels, beta: beta,
                           c: y.data, ldc: pixels, images: n, otherStride: c * h * w, cStride: o * pixels, workspace: workspace)
        case .im2colGEMM:
            // Images in groups whose columns fit the im2col budget: a 16-bit weight's tiles are widened once a group.
            let group = max(1, min(n, groupColumns / max(1, k * pixels)))
            let columns = try workspace.scratch(.columns, count: group * k * pixels)
            for first in Swift.stride(from: 0, to: n, by: group) {
                let count = min(group, n - first)
                for image in first..<first + count {
                    fillBias(y.data + image * o * pixels, bias: bias, channels: o, pixels: pixels)
                    let block = columns + (image - first) * k * pixels
                    Parallel.forEach(k, minimumChunk: max(1, 8192 / max(1, pixels))) { taps in
                        im2col(x.data + image * c * h * w, g, rows: 0..<ho, taps: taps, into: block)
                    }
                }
                try BLAS.sgemm(weight: weight, side: .left, m: o, n: pixels, k: k, other: columns, ldOther: pixels, beta: beta,
                               c: y.data + first * o * pixels, ldc: pixels, images: count, otherStride: k * pixels,
                               cStride: o * pixels, workspace: workspace)
            }
        case .bandedIm2colGEMM(let rows):
            let weight = try weight.float32(in: workspace)
            let bands = (ho + rows - 1) / rows
            let chunks = Parallel.chunkCount(bands)
            let bandFloats = k * rows * wo
            let columns = try workspace.scratch(.columns, count: chunks * bandFloats)
            for image in 0..<n {
                let xn = x.data + image * c * h * w, yn = y.data + image * o * pixels
                Parallel.forEachChunk(bands) { chunk, range in
                    let scratch = columns + chunk * bandFloats
                    for band in range {
                        let first = band * rows, last = min(ho, first + rows)
                        let width = (last - first) * wo
                        im2col(xn, g, rows: first..<last, taps: 0..<k, into: scratch)
                        if let bias {
                            for ch in 0..<o { (yn + ch * pixels + first * wo).update(repeating: bias.data[ch], count: width) }
                        }
                        BLAS.serialSgemm(m: o, n: width, k: k, a: weight.data, lda: k, b: scratch, ldb: width,
                                         beta: beta, c: yn + first * wo, ldc: pixels)
                    }
                }
            }
        }
    }

    /// Allocating convenience: output from `workspace`'s pool.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), workspace: Workspace,
                               winograd: Bool = winogradEnabled) throws(TensorError) -> Tensor {
        try forward(x, weight: WeightTensor(weight), bias: bias, stride: stride, padding: padding, workspace: workspace,
                    winograd: winograd)
    }

    /// Allocating convenience with the weight as held.
    public static func forward(_ x: Tensor, weight: WeightTensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), workspace: Workspace,
                               winograd: Bool = winogradEnabled) throws(TensorError) -> Tensor {
        guard x.rank == 4, weight.rank == 4 else {
            throw .invalidArgument(operation: "conv2d", reason: "x \(x.shape) and weight \(weight.shape) must be 4-D")
        }
        let ho = outputSize(x.shape[2], kernel: weight.shape[2], stride: stride, padBefore: padding.top, padAfter: padding.bottom)
        let wo = outputSize(x.shape[3], kernel: weight.shape[3], stride: stride, padBefore: padding.left, padAfter: padding.right)
        let y = try workspace.tensor([x.shape[0], weight.shape[0], max(ho, 0), max(wo, 0)])
        try forward(x, weight: weight, bias: bias, stride: stride, padding: padding, into: y, workspace: workspace, winograd: winograd)
        return y
    }

    struct Geometry {
        let c, h, w, kh, kw, stride: Int
        let padding: Padding
        let ho, wo: Int
    }

    private static func fillBias(_ y: UnsafeMutablePointer<Float>, bias: Tensor?, channels: Int, pixels: Int) {
        guard let bias else { return }
        let b = bias.data
        Parallel.forEach(channels, minimumChunk: max(1, 16384 / max(1, pixels))) { range in
            for ch in range { (y + ch * pixels).update(repeating: b[ch], count: pixels) }
        }
    }

    /// Rows of the column matrix are (c, i, j) in weight order; columns are the output pixels of
    /// `rows`, row-major. Out-of-image taps are zero (the padding). Serial: callers parallelise.
    /// - x: [C, H, W] → columns: [C·kH·kW, rows.count·Wo] (only rows `taps` are written)
    static func im2col(_ x: UnsafePointer<Float>, _ g: Geometry, rows: Range<Int>, taps: Range<Int>,
                       into columns: UnsafeMutablePointer<Float>) {
        let width = rows.count * g.wo
        for r in taps {
            let ch = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw
            let plane = x + ch * g.h * g.w
            // Output columns ox whose input column ox·stride − left + j lies inside [0, W).
            let first = max(0, (g.padding.left - j + g.stride - 1) / g.stride)
            let reach = g.w - 1 + g.padding.left - j
            let last = min(g.wo, max(first, reach < 0 ? 0 : reach / g.stride + 1))
            for (k, oy) in rows.enumerated() {
                let out = columns + r * width + k * g.wo
                let iy = oy * g.stride - g.padding.top + i
                guard iy >= 0, iy < g.h, first < last else {
                    out.update(repeating: 0, count: g.wo)
                    continue
                }
                let src = plane + iy * g.w
                if first > 0 { out.update(repeating: 0, count: first) }
                if g.stride == 1 {
                    (out + first).update(from: src + (first - g.padding.left + j), count: last - first)
                } else {
                    var ix = first * g.stride - g.padding.left + j
                    for ox in first..<last {
                        out[ox] = src[ix]
                        ix += g.stride
                    }
                }
                if last < g.wo { (out + last).update(repeating: 0, count: g.wo - last) }
            }
        }
    }
}
