import LDMTensor

/// Classifier-free guidance (Ho & Salimans 2022) as diffusers' Stable Diffusion pipelines run it
/// (pipeline_stable_diffusion_inpaint.py `__call__`): the latent is doubled into one batch
/// [x; x], `pair` evaluates it with the negative (or empty) prompt's context for the first half and
/// the prompt's for the second, and ε = ε_u + s·(ε_c − ε_u) in float32. One model call per
/// evaluation, at batch 2N.
///
/// diffusers skips guidance for s ≤ 1 (`do_classifier_free_guidance`) and runs the prompt alone at
/// batch N; the pipeline chooses that denoiser instead of this one.
public struct ClassifierFreeGuidance<Pair: Denoiser>: Denoiser {
    /// Evaluates [2N, z, h, w]: the first N rows unconditioned (negative prompt), the last N conditioned.
    public let pair: Pair
    public let scale: Float

    public init(pair: Pair, scale: Float) {
        self.pair = pair
        self.scale = scale
    }

    /// - x: [N, z, h, w] → ε: [N, z, h, w] (the pair is evaluated at [2N, z, h, w])
    public func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        guard x.shape.count == 4 else {
            throw TensorError.shapeMismatch(operation: "ClassifierFreeGuidance", argument: "x", expected: "[N, z, h, w]", actual: x.shape)
        }
        var doubled = x.shape
        doubled[0] *= 2
        let batch = try workspace.tensor(doubled)
        let n = x.count
        for i in 0..<n {
            batch.data[i] = x.data[i]
            batch.data[n + i] = x.data[i]
        }
        let both = try pair.noise(batch, timestep: timestep, workspace: workspace)
        guard both.shape == doubled else {
            throw TensorError.shapeMismatch(operation: "ClassifierFreeGuidance", argument: "ε of the guidance batch",
                                            expected: "\(doubled)", actual: both.shape)
        }
        let out = try workspace.tensor(x.shape)
        let (e, o) = (both.data, out.data)
        for i in 0..<n {
            let unconditional = e[i], conditional = e[n + i]
            o[i] = unconditional + scale * (conditional - unconditional)
        }
        return out
    }
}
