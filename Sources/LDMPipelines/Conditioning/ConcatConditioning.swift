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

/// Why a conditioning and a model do not fit, or an input is unusable.
public enum PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    case channelMismatch(unetInput: Int, latent: Int, conditioning: Int, task: ModelTask)
    case wrongTask(model: ModelTask, conditioning: ModelTask)
    case badInput(String)
    /// `PipelineCallbacks.isCancelled` returned true between two sampling steps.
    case cancelled
    /// Even the smallest tiles need more memory than allowed (bytes).
    case memory(needed: Int, budget: Int, detail: String)

    public var description: String {
        switch self {
        case .channelMismatch(let unet, let latent, let cond, let task):
            "the U-Net takes \(unet) input channels, but the \(task.rawValue) conditioning gives \(cond) + \(latent) latent channels"
        case .wrongTask(let model, let cond):
            "this is \(model.withArticle) model; it cannot run \(cond.rawValue) (use `ldm-edit \(model.command)`)"
        case .badInput(let reason): reason
        case .cancelled: "stopped on request before finishing"
        case .memory(let needed, let budget, let detail):
            "needs about \(needed >> 20) MiB even with the smallest tiles, above the \(budget >> 20) MiB allowed (--max-memory): \(detail)"
        }
    }
}
