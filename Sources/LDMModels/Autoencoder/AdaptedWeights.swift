import LDMTensor

/// The decoder's weights with its low-rank adapter merged in (`ConvAutoencoderLayout.Adapter`,
/// Scripts/train/experiments/decoder_adapter.py `merged`): each adapted convolution's weight is
/// W + up · down and its bias b + bias, in float32, computed once at load; every other tensor is `base`'s.
/// - W: [O, C, k, k] + up [O, r] · down [r, C, k, k] → [O, C, k, k]; b: [O] + bias [O] → [O]
struct AdaptedWeights: WeightProvider {
    let base: any WeightProvider
    let merged: [String: Tensor]

    init(_ base: any WeightProvider, adapters: [ConvAutoencoderLayout.Adapter]) throws {
        var merged: [String: Tensor] = [:]
        for adapter in adapters {
            let target = adapter.target, r = adapter.rank
            let (o, columns) = (target.output, target.input * target.kernel * target.kernel)
            // A copy: the provider may hand out a view of the file's own buffer.
            let weight = try target.weight.load(base, as: target.weight.shape).copy()
            let up = try adapter.up.load(base, as: adapter.up.shape)
            let down = try adapter.down.load(base, as: adapter.down.shape)
            // weight[O, C·k·k] += up[O, r] · down[r, C·k·k]
            BLAS.sgemm(m: o, n: columns, k: r, a: up.data, lda: r, b: down.data, ldb: columns, beta: 1, c: weight.data, ldc: columns)
            let bias = try target.bias.load(base, as: target.bias.shape).copy()
            try Elementwise.add(bias, try adapter.bias.load(base, as: adapter.bias.shape), into: bias)
            merged[target.weight.name] = weight
            merged[target.bias.name] = bias
        }
        self.base = base
        self.merged = merged
    }

    func tensor(_ name: String) throws -> Tensor { try merged[name] ?? base.tensor(name) }
    func weight(_ name: String) throws -> WeightTensor { try merged[name].map { WeightTensor($0) } ?? base.weight(name) }
}
