/// Channel concatenation (the U-Net's skip connections, the conditioning channels).
public enum Concat {
    /// Each input is copied once, straight into its channel range of `y`; producers that can write
    /// directly into a channel range (see `channelSlice`) avoid even that copy.
    /// - parts: [N, C_i, H, W]... → y: [N, ΣC_i, H, W]. Naive twin: `Naive.concatChannels`.
    public static func channels(_ parts: [Tensor], into y: Tensor) throws(TensorError) {
        guard let first = parts.first, first.rank == 4 else {
            throw .invalidArgument(operation: "concat", reason: "needs at least one 4-D tensor")
        }
        let (n, h, w) = (first.shape[0], first.shape[2], first.shape[3])
        for (i, p) in parts.enumerated() { try p.expect([n, nil, h, w], "concat", "part \(i)") }
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        try y.expect([n, total, h, w], "concat", "output")
        let plane = h * w
        for image in 0..<n {
            var offset = 0
            for p in parts {
                let count = p.shape[1] * plane
                (y.data + (image * total + offset) * plane).update(from: p.data + image * count, count: count)
                offset += p.shape[1]
            }
        }
    }

    /// One batch row repeated: y[i] = x[0] for every row i (an image shared by the rows of a guidance batch).
    /// - x: [1, …] → y: [N, …] (the same trailing shape)
    public static func repeatBatch(_ x: Tensor, into y: Tensor) throws(TensorError) {
        guard x.rank >= 1, x.shape[0] == 1, y.rank == x.rank, y.shape[0] >= 1, Array(y.shape.dropFirst()) == Array(x.shape.dropFirst()) else {
            throw .shapeMismatch(operation: "repeatBatch", argument: "output", expected: "[N] + \(Array(x.shape.dropFirst())) from x [1, …]",
                                 actual: y.shape)
        }
        let count = x.count
        for row in 0..<y.shape[0] { (y.data + row * count).update(from: x.data, count: count) }
    }

    /// A tensor aliasing channels [start, start + count) of a batch-1 tensor, so a producer can write
    /// its output in place inside a concatenation buffer. - y: [1, C, H, W] → [1, count, H, W]
    public static func channelSlice(_ y: Tensor, start: Int, count: Int) throws(TensorError) -> ChannelSlice {
        try y.expect([1, nil, nil, nil], "channelSlice", "tensor")
        guard start >= 0, count >= 0, start + count <= y.shape[1] else {
            throw .invalidArgument(operation: "channelSlice", reason: "channels \(start)..<\(start + count) outside \(y.shape[1])")
        }
        return ChannelSlice(base: y, start: start, count: count)
    }
}

/// Channels [start, start + count) of a batch-1 NCHW tensor: contiguous, so kernels can write there.
public struct ChannelSlice: Sendable {
    public let base: Tensor
    public let start: Int
    public let count: Int
    public var shape: [Int] { [1, count, base.shape[2], base.shape[3]] }
    public var data: UnsafeMutablePointer<Float> { base.data + start * base.shape[2] * base.shape[3] }
}
