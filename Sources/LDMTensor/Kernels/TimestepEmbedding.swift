#if canImport(Glibc)
import Glibc
#endif

/// Sinusoidal timestep embedding of the CompVis U-Net (openaimodel util.py `timestep_embedding`).
public enum TimestepEmbedding {
    /// freqs_k = exp(−ln(10000) · k / half) in Float32 as the reference computes it
    /// (`torch.exp(-math.log(max_period) * torch.arange(half, dtype=float32) / half)`),
    /// args = t · freqs_k, emb = [cos(args), sin(args)] — cos first. An odd `dim` gets a zero column.
    /// - timesteps: [N] → y: [N, dim]. Naive twin: `Naive.timestepEmbedding`.
    public static func forward(_ timesteps: [Float], dim: Int, maxPeriod: Double = 10000, into y: Tensor) throws(TensorError) {
        try y.expect([timesteps.count, dim], "timestepEmbedding", "output")
        let half = dim / 2
        let logPeriod = Float(-log(maxPeriod))
        for (row, t) in timesteps.enumerated() {
            let out = y.data + row * dim
            for k in 0..<half {
                let frequency = expf(Float(k) * logPeriod / Float(half))
                let argument = t * frequency
                out[k] = cosf(argument)
                out[half + k] = sinf(argument)
            }
            if dim % 2 == 1 { out[dim - 1] = 0 }
        }
    }
}
