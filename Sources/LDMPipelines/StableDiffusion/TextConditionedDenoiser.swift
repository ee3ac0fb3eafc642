import LDMModels
import LDMTensor

/// The Stable Diffusion inpainting U-Net as a denoiser: ε for x_t from the U-Net on [x_t, conditioning] (the
/// conditioning's channels concatenated after the latent's, per batch row) with the text `context` read by
/// cross-attention (diffusers pipeline_stable_diffusion_inpaint.py: `unet(cat([latent_model_input, mask,
/// masked_image_latents], dim=1), t, encoder_hidden_states=prompt_embeds)`). Inside `ClassifierFreeGuidance`
/// it is evaluated at batch 2 with the [negative; prompt] context; unguided at batch 1.
/// The whole latent runs at once (no U-Net tiles). Without conditioning (a text-to-image U-Net, blended inpainting)
/// the U-Net sees x alone.
public struct TextConditionedDenoiser: Denoiser {
    public let unet: UNet
    /// [1, c, h, w], the same for every batch row; nil: none.
    public let conditioning: Tensor?
    /// [N, L, D]: one context per batch row.
    public let context: Tensor

    public init(unet: UNet, conditioning: Tensor?, context: Tensor) {
        self.unet = unet
        self.conditioning = conditioning
        self.context = context
    }

    /// - x: [N, z, h, w] (N = the context's batch) → ε: [N, z, h, w]
    public func noise(_ x: Tensor, timestep: Float, workspace ws: Workspace) throws -> Tensor {
        let n = context.shape[0]
        guard let conditioning else {
            guard x.rank == 4, x.shape[0] == n else {
                throw TensorError.shapeMismatch(operation: "TextConditionedDenoiser", argument: "x", expected: "[\(n), z, h, w]", actual: x.shape)
            }
            return try unet(x, timesteps: [Float](repeating: timestep, count: n), context: context, workspace: ws)
        }
        let c = conditioning.shape[1]
        guard x.rank == 4, x.shape[0] == n, x.shape[2] == conditioning.shape[2], x.shape[3] == conditioning.shape[3] else {
            throw TensorError.shapeMismatch(operation: "TextConditionedDenoiser", argument: "x",
                                            expected: "[\(n), z, \(conditioning.shape[2]), \(conditioning.shape[3])]", actual: x.shape)
        }
        let (z, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        let input = try ws.tensor([n, z + c, x.shape[2], x.shape[3]])
        for row in 0..<n {
            let out = input.data + row * (z + c) * plane
            out.update(from: x.data + row * z * plane, count: z * plane)
            (out + z * plane).update(from: conditioning.data, count: c * plane)
        }
        return try unet(input, timesteps: [Float](repeating: timestep, count: n), context: context, workspace: ws)
    }
}
