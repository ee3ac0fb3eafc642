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
        /// 1x1, stride 1, no padding: one GEMM per image, no data rearrangement.
        case pointwise
        /// im2col of a band of output rows into bounded scratch, then one GEMM per band.
        case im2colGEMM(rowsPerBand: Int)
    }

    /// Upper bound on the im2col scratch, in floats (16 MiB): large enough for efficient GEMMs,
    /// small enough that a 4096x4096 image does not need an H·W·C·9 buffer.
    public static let columnBudget = 4 << 20

    /// Output size for one spatial axis.
    public static func outputSize(_ input: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int) -> Int {
        (input + padBefore + padAfter - kernel) / stride + 1
    }

    public static func strategy(channels: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Padding,
                                outputWidth: Int) -> Strategy {
        if kernelH == 1, kernelW == 1, stride == 1, padding == .symmetric(0) { return .pointwise }
        let floatsPerRow = channels * kernelH * kernelW * outputWidth
        return .im2colGEMM(rowsPerBand: max(1, columnBudget / max(1, floatsPerRow)))
    }

    /// y = conv2d(x, weight) + bias.
    /// - x: [N, C, H, W], weight: [O, C, kH, kW], bias: [O] → y: [N, O, Ho, Wo],
    ///   Ho = (H + top + bottom − kH) / stride + 1, likewise Wo.
    /// Naive twin: `Naive.conv2d` in LDMTestSupport.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), into y: Tensor,
                               workspace: Workspace) throws(TensorError) {
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
        let geometry = Geometry(c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo)
        let k = c * kh * kw
        let strategy = strategy(channels: c, kernelH: kh, kernelW: kw, stride: stride, padding: padding, outputWidth: wo)
        var columns: UnsafeMutablePointer<Float>?
        if case .im2colGEMM(let rows) = strategy {
            columns = try workspace.scratch(.columns, count: k * min(rows, ho) * wo)
        }
        for image in 0..<n {
            let xn = x.data + image * c * h * w, yn = y.data + image * o * pixels
            // Bias first, then GEMMs accumulate onto it (beta = 1): no separate bias pass afterwards.
            fillBias(yn, bias: bias, channels: o, pixels: pixels)
            switch strategy {
            case .pointwise:
                BLAS.sgemm(m: o, n: pixels, k: c, a: weight.data, lda: c, b: xn, ldb: pixels,
                           beta: bias == nil ? 0 : 1, c: yn, ldc: pixels)
            case .im2colGEMM(let rows):
                guard let columns else { continue }
                var row0 = 0
                while row0 < ho {
                    let band = min(rows, ho - row0)
                    im2col(xn, geometry, rows: row0..<(row0 + band), into: columns)
                    BLAS.sgemm(m: o, n: band * wo, k: k, a: weight.data, lda: k, b: columns, ldb: band * wo,
                               beta: bias == nil ? 0 : 1, c: yn + row0 * wo, ldc: pixels)
                    row0 += band
                }
            }
        }
    }

    /// Allocating convenience: output from `workspace`'s pool.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                               padding: Padding = .symmetric(0), workspace: Workspace) throws(TensorError) -> Tensor {
        guard x.rank == 4, weight.rank == 4 else {
            throw .invalidArgument(operation: "conv2d", reason: "x \(x.shape) and weight \(weight.shape) must be 4-D")
        }
        let ho = outputSize(x.shape[2], kernel: weight.shape[2], stride: stride, padBefore: padding.top, padAfter: padding.bottom)
        let wo = outputSize(x.shape[3], kernel: weight.shape[3], stride: stride, padBefore: padding.left, padAfter: padding.right)
        let y = try workspace.tensor([x.shape[0], weight.shape[0], max(ho, 0), max(wo, 0)])
        try forward(x, weight: weight, bias: bias, stride: stride, padding: padding, into: y, workspace: workspace)
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
    /// `rows`, row-major. Out-of-image taps are zero (the padding).
    /// - x: [C, H, W] → columns: [C·kH·kW, rows.count·Wo]
    static func im2col(_ x: UnsafePointer<Float>, _ g: Geometry, rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        let width = rows.count * g.wo
        Parallel.forEach(g.c * g.kh * g.kw, minimumChunk: max(1, 8192 / max(1, width))) { range in
            for r in range {
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
}
