import LDMModels
import LDMTensor

/// Extra channels concatenated to the noisy latent before every U-Net call — the design's
/// task-specific conditioning modules (CompVis `DiffusionWrapper` with conditioning_key "concat":
/// `torch.cat([x] + c_concat, dim=1)`, ddpm.py:1406).
public protocol ConcatConditioning: Sendable {
    /// The task this conditioning serves (decides the U-Net it fits).
    var task: ModelTask { get }
    /// Channels contributed; must equal the U-Net's input channels minus the latent channels.
    var channels: Int { get }
    /// Latent height and width the conditioning is made for.
    var latentSize: (height: Int, width: Int) { get }
    /// [1, channels, h, w], computed once per image and reused at every sampling step.
    func conditioning(firstStage: FirstStage, workspace: Workspace) throws -> Tensor
}
