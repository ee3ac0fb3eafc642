import LDMModels
import LDMTensor

/// Super-resolution conditioning (diffusers `LDMSuperResolutionPipeline`, CompVis bsr_sr: cond stage
/// = Identity): the low-resolution image itself, in [−1, 1], at latent resolution — the U-Net
/// denoises a latent the size of the low-res image, which the decoder turns into 4x the pixels.
/// - image: [1, 3, h, w] in [−1, 1] → [1, 3, h, w]
public struct SuperResolutionConditioning: ConcatConditioning {
    public let task = ModelTask.superResolution
    public let channels = 3
    public let latentSize: (height: Int, width: Int)
    let image: Tensor

    public init(lowResolution image: Tensor) throws {
        guard image.rank == 4, image.shape[0] == 1, image.shape[1] == 3 else {
            throw PipelineError.shapeMismatch(argument: "low-resolution image", expected: "[1, 3, h, w]", actual: image.shape)
        }
        self.image = image
        latentSize = (image.shape[2], image.shape[3])
    }

    public func conditioning(firstStage: FirstStage, workspace: Workspace) throws -> Tensor { image }
}
