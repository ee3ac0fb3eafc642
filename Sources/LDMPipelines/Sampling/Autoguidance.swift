import LDMTensor

/// Autoguidance (Karras, Aittala, Kynkäänniemi, Lehtinen, Laine, Aila, "Guiding a diffusion model with a bad version
/// of itself", NeurIPS 2024, eq. 1 with the unconditional model replaced by a weaker one of the same task): the
/// prediction is the guide's pushed towards the model's, p = p_guide + w·(p_model − p_guide). Where both models
/// agree, nothing changes; where the model has learnt more than its guide, the step goes further that way.
///
/// Both denoisers must predict the same quantity (ε, or v) for the same x_t under the same schedule. The data
/// prediction x̂₀ is affine in either with the same x_t and weights summing to one, so guiding ε or v guides x̂₀ (the
/// paper's D) identically. w = 1 is the model alone. Two model calls per evaluation.
public struct Autoguidance<Model: Denoiser, Guide: Denoiser>: Denoiser {
    public let model: Model
    public let guide: Guide
    public let weight: Float

    public init(model: Model, guide: Guide, weight: Float) {
        self.model = model
        self.guide = guide
        self.weight = weight
    }

    /// - x: [N, z, h, w] → ε or v: [N, z, h, w]
    public func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        let strong = try model.checkedNoise(x, timestep: timestep, workspace: workspace, sampler: "Autoguidance")
        // `strong` holds its pool storage, so the guide's call cannot reuse it.
        let weak = try guide.checkedNoise(x, timestep: timestep, workspace: workspace, sampler: "Autoguidance")
        let out = try workspace.tensor(x.shape)
        let (s, g, o) = (strong.data, weak.data, out.data)
        for i in 0..<x.count {
            o[i] = g[i] + weight * (s[i] - g[i])
        }
        return out
    }
}
