import LDMTensor

/// One benchmark case: a name and shape label, its FLOP count, and a closure that runs it once.
struct KernelCase {
    let kernel: String
    let shape: String
    let flops: Double
    let run: () throws -> Void
}

/// The shapes the real models use (issue 3; docs/ldm-spec.md §1.5): the SR U-Net (widths 160/320/320/640,
/// 32-channel heads), the inpainting U-Net, and the VQ-f4 autoencoder. Scripts/bench/bench_torch_kernels.py
/// runs the same list in PyTorch; keep the two in step.
enum KernelCases {
    static func all(workspace ws: Workspace, large: Bool = false) throws -> [KernelCase] {
        var cases: [KernelCase] = []
        func values(_ shape: [Int], seed: UInt64) throws -> Tensor {
            let t = try Tensor(shape: shape)
            var s = seed | 1
            for i in 0..<t.count {
                s = s &* 6364136223846793005 &+ 1442695040888963407
                t.data[i] = Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
            }
            return t
        }
        for (c, o, h, k, stride) in [(320, 320, 64, 3, 1), (640, 640, 16, 3, 1), (128, 128, 256, 3, 1),
                                     (160, 160, 128, 3, 1), (512, 512, 64, 3, 1), (320, 320, 64, 3, 2),
                                     (320, 960, 32, 1, 1), (640, 1920, 16, 1, 1)] {
            let x = try values([1, c, h, h], seed: 1), w = try values([o, c, k, k], seed: 2), b = try values([o], seed: 3)
            let pad = k / 2
            let ho = (h + 2 * pad - k) / stride + 1
            let y = try Tensor(shape: [1, o, ho, ho])
            let flops = 2.0 * Double(o * c * k * k) * Double(ho * ho)
            let label = "\(c)->\(o) k\(k) s\(stride) \(h)x\(h)"
            cases.append(KernelCase(kernel: "conv2d", shape: label, flops: flops) {
                try Conv2d.forward(x, weight: w, bias: b, stride: stride, padding: .symmetric(pad), into: y, workspace: ws)
            })
            // The same GEMM problem in one sgemm call, on pre-laid-out columns: the ceiling for conv.
            let (m, n, kk) = (o, ho * ho, c * k * k)
            let a = try values([m, kk], seed: 4), bm = try values([kk, n], seed: 5), cm = try Tensor(shape: [m, n])
            cases.append(KernelCase(kernel: "sgemm", shape: "\(m)x\(n)x\(kk) (\(label))", flops: flops) {
                BLAS.sgemm(m: m, n: n, k: kk, a: a.data, lda: kk, b: bm.data, ldb: n, c: cm.data, ldc: n)
            })
        }
        // --large adds the VQ decoder's mid attention at a 128x128 latent (550 GFLOP, seconds per run).
        for (tokens, heads, d) in [(4096, 20, 32), (1024, 20, 32), (256, 8, 128), (4096, 1, 512)] + (large ? [(16384, 1, 512)] : []) {
            let c = heads * d
            let qkv = try values([1, 3 * c, tokens], seed: 6), out = try Tensor(shape: [1, c, tokens])
            let flops = 4.0 * Double(tokens) * Double(tokens) * Double(c)
            cases.append(KernelCase(kernel: "attention", shape: "T\(tokens) h\(heads) d\(d)", flops: flops) {
                try Attention.forward(qkv: qkv, heads: heads, scaling: .splitQK, into: out, workspace: ws)
            })
        }
        // Token-major attention as the SD U-Net's level 0 runs it (64² latent, guidance batch 2; SD 1.x: 8 heads
        // of 40, SD 2.x: 5 of 64): self-attention over 4096 tokens and cross-attention to the 77-token text context.
        for (keys, label, heads, d) in [(4096, "self", 8, 40), (77, "cross", 8, 40), (4096, "self", 5, 64)] {
            let (n, tokens) = (2, 4096)
            let c = heads * d
            let q = try values([n, tokens, c], seed: 11), kv = try values([n, keys, 2 * c], seed: 12)
            let out = try Tensor(shape: [n, tokens, c])
            let flops = 4.0 * Double(n * tokens * keys * c)
            cases.append(KernelCase(kernel: "token-attention", shape: "\(label) N\(n) T\(tokens) S\(keys) h\(heads) d\(d)", flops: flops) {
                try Attention.forward(query: .init(q), key: .init(kv, start: 0, count: c), value: .init(kv, start: c, count: c),
                                      heads: heads, into: out, workspace: ws)
            })
        }
        for (c, h, silu) in [(160, 128, true), (320, 64, true), (512, 256, false)] {
            let x = try values([1, c, h, h], seed: 7), g = try values([c], seed: 8), b = try values([c], seed: 9)
            let y = try Tensor(shape: x.shape)
            cases.append(KernelCase(kernel: silu ? "groupnorm+silu" : "groupnorm", shape: "\(c)x\(h)x\(h)",
                                    flops: Double(x.count) * (silu ? 8 : 5)) {
                try GroupNorm.forward(x, groups: 32, gamma: g, beta: b, eps: 1e-5, fusedSiLU: silu, into: y)
            })
        }
        let x = try values([1, 320, 64, 64], seed: 10)
        let up = try Tensor(shape: [1, 320, 128, 128]), sum = try Tensor(shape: x.shape)
        cases.append(KernelCase(kernel: "upsample2x", shape: "320x64x64", flops: Double(up.count)) {
            try Resize.upsampleNearest2x(x, into: up)
        })
        cases.append(KernelCase(kernel: "add", shape: "320x64x64", flops: Double(x.count)) {
            try Elementwise.add(x, x, into: sum)
        })
        // Softmax over rows of 4096 (a level-0 self-attention's score rows, 1M values: its exponent pass and the
        // division); "GFLOP/s" is G values per second.
        let rows = try values([256, 4096], seed: 13), soft = try Tensor(shape: rows.shape)
        cases.append(KernelCase(kernel: "softmax", shape: "256x4096", flops: Double(rows.count)) {
            try Softmax.forward(rows, into: soft)
        })
        // 16-bit weights widened per call (WeightTensor): the SD U-Net's largest layer, 1280 → 1280 from a
        // 2560-channel concatenation, 3×3 (29.5 M values); "GFLOP/s" is G values per second. No PyTorch twin.
        let halfWeight = try Tensor(shape: [1280, 2560, 3, 3]), halfBits = try HalfStorage(capacity: halfWeight.count)
        for i in 0..<halfWeight.count { halfBits.pointer[i] = UInt16(truncatingIfNeeded: i &* 40503) & 0xbfff }
        for (name, precision) in [("widen-f16", WeightTensor.Precision.float16), ("widen-bf16", .bfloat16)] {
            let weight = try WeightTensor(shape: halfWeight.shape, precision: precision, storage: halfBits)
            cases.append(KernelCase(kernel: name, shape: "1280x2560x3x3", flops: Double(halfWeight.count)) {
                weight.widened(into: halfWeight.data)
            })
        }
        return cases
    }
}
