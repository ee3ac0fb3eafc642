import LDMImageIO
import LDMModels
import LDMTensor

/// 4x super-resolution with an LDM (diffusers `LDMSuperResolutionPipeline` semantics,
/// docs/ldm-spec.md §4.1), or with stable-diffusion-x4-upscaler (text-guided, noise-augmented; diffusers
/// `StableDiffusionUpscalePipeline`, `upscale(lowResolution:…)` in SuperResolutionPipeline+Upscaler.swift): the low-res image in [−1, 1] is the conditioning, random latents of the same size are
/// denoised with DDIM on [latents, low-res] and decoded (VQ: quantised) to f× (4x) the pixels.
/// Unlike diffusers, any size works: the input is reflect-padded to the U-Net's multiple and the
/// output cropped back to exactly 4x the input (diffusers squeezes to a multiple of 32 instead).
/// Alpha is upscaled separately with Lanczos-3; the returned image has the input's alpha layout.
public struct SuperResolutionPipeline: Sendable, ModelGuided {
    public let model: LatentDiffusionModel
    let setup: SamplingSetup
    /// The weaker model that guides this one at sampling time (`Autoguidance`); nil: the model alone.
    public internal(set) var guide: ModelGuide?
    var convention: DDIMSampler.Convention { setup.convention }

    /// - convention: diffusers' (`set_alpha_to_one`, from scheduler_config.json) for diffusers
    ///   folders, CompVis' for CompVis checkpoints.
    public init(weights: ModelWeights, model: LatentDiffusionModel) throws {
        try weights.require(task: .superResolution)
        if model.noiseAugmentation != nil, model.text == nil {
            throw CheckpointError.unsupportedModel(path: weights.path, reason:
                "a text-guided upscaler (stable-diffusion-x4-upscaler) without its text encoder (text_encoder/ or cond_stage_model.*)")
        }
        self.model = model
        setup = SamplingSetup(weights, defaultSetAlphaToOne: true)
    }

    /// This pipeline with `guide` guiding its model. Throws `PipelineError.guideMismatch` when the guide cannot.
    public func guided(by guide: ModelGuide) throws -> Self { try attaching(guide) }

    /// This pipeline with its attached guide (checked when attached) at `weight`, or without it for nil.
    public func withGuideWeight(_ weight: Float?) -> Self { reweighing(weight) }

    /// The multiple the input's sides are padded to (the U-Net's downsampling factor).
    public var sizeMultiple: Int { model.unet.config.downsamplingFactor }

    /// Upscales `image` 4x. - image: planar [0, 1] RGB (+ alpha) → 4x width and height.
    /// The x4 upscaler (a text-conditioned, noise-augmented model) reads `settings.text` (required) and
    /// `settings.noiseLevel` (default 20); the LDM model refuses both.
    public func run(_ image: PlanarImage, settings: SamplingSettings, callbacks: PipelineCallbacks = .init(),
                    workspace: Workspace = Workspace()) throws -> PlanarImage {
        let lowRes = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: sizeMultiple)
        let decoded: Tensor
        if let augmentation = model.noiseAugmentation, let text = model.text {
            guard let prompt = settings.text else { throw PipelineError.promptRequired }
            decoded = try upscale(lowResolution: lowRes, augmentation: augmentation, text: text, prompt: prompt, settings: settings,
                                  callbacks: callbacks, workspace: workspace).decoded
        } else {
            guard settings.text == nil else { throw PipelineError.promptNotAccepted }
            guard settings.noiseLevel == nil else { throw PipelineError.noiseLevelNotAccepted }
            let conditioning = try SuperResolutionConditioning(lowResolution: lowRes)
            try model.check(conditioning)
            let denoiser = ModelGuide.denoiser(ModelDenoiser(model: model, conditioning: lowRes, tiling: settings.tiling), guide: guide,
                                                tiling: settings.tiling)
            let latentShape = [1, model.firstStage.latentChannels, lowRes.shape[2], lowRes.shape[3]]
            var loop = DiffusionLoop(model: model, sampler: setup.sampler(settings))
            decoded = try loop.run(denoiser, latentShape: latentShape, settings: settings, callbacks: callbacks, workspace: workspace)
        }
        let scale = decoded.shape[2] / lowRes.shape[2]
        var result = ImageTensor.image(decoded, width: image.width * scale, height: image.height * scale)
        if let alpha = image.alpha {
            let plane = PlanarImage(width: image.width, height: image.height, rgb: alpha + alpha + alpha)
            let big = Resampler.resize(plane, width: result.width, height: result.height, filter: .lanczos)
            result.alpha = big.rgb[0..<(result.width * result.height)].map { min(max($0, 0), 1) }
        }
        return result
    }
}
