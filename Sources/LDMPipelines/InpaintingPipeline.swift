import LDMImageIO
import LDMModels
import LDMTensor

/// Inpainting with an LDM (CompVis `scripts/inpaint.py` semantics, docs/ldm-spec.md §3): the masked image
/// encoded (not quantised) and the ±1 mask at latent size condition the U-Net; DDIM from noise;
/// decode (VQ: with quantisation); composite.
/// Better than the reference: pixels outside the mask are taken from the source exactly (the
/// caller copies them bit for bit; `run` returns the blended float image for the rest), results are
/// rounded rather than truncated, and any size works (reflect-padded to the model's multiple,
/// cropped back).
public struct InpaintingPipeline: Sendable, ModelGuided {
    public let model: LatentDiffusionModel
    let setup: SamplingSetup
    /// The weaker model that guides this one at sampling time (`Autoguidance`); nil: the model alone.
    public internal(set) var guide: ModelGuide?
    var convention: DDIMSampler.Convention { setup.convention }

    public init(weights: ModelWeights, model: LatentDiffusionModel) throws {
        try weights.require(task: .inpainting)
        if weights.unet.crossAttention != nil, model.text == nil {
            throw CheckpointError.unsupportedModel(path: weights.path, reason:
                "a Stable Diffusion U-Net (cross-attention) without its CLIP text encoder (text_encoder/ or cond_stage_model.transformer.*)")
        }
        self.model = model
        setup = SamplingSetup(weights, defaultSetAlphaToOne: false)
    }

    /// This pipeline with `guide` guiding its model. Throws `PipelineError.guideMismatch` when the guide cannot.
    public func guided(by guide: ModelGuide) throws -> Self { try attaching(guide) }

    /// This pipeline with its attached guide (checked when attached) at `weight`, or without it for nil.
    public func withGuideWeight(_ weight: Float?) -> Self { reweighing(weight) }

    /// The multiple image sides are padded to: the first stage's factor times the U-Net's downsamplings.
    public var sizeMultiple: Int {
        model.firstStage.downsamplingFactor * model.unet.config.downsamplingFactor
    }

    /// - image: planar [0, 1] RGB; mask: width·height values, ≥ 0.5 = repaint → the blended image
    ///   (1 − m)·image + m·prediction in [0, 1], as inpaint.py computes it before quantising.
    /// - guide: a first guess of the whole image (its size) whose low frequencies the hole's latents follow over the
    ///   first `share` of the steps (`DiffusionLoop.guided`); the conditioning is the same. The LDM models only (the
    ///   second pass of `CoarseToFine`).
    public func run(_ image: PlanarImage, mask: [Float], settings: SamplingSettings, callbacks: PipelineCallbacks = .init(),
                    guide: (image: PlanarImage, share: Double)? = nil,
                    workspace ws: Workspace = Workspace()) throws -> PlanarImage {
        let (w, h) = (image.width, image.height)
        guard mask.count == w * h else { throw PipelineError.maskSize(count: mask.count, width: w, height: h) }
        let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(image), multiple: sizeMultiple)
        let maskTensor = try ImageTensor.reflectPad(try Tensor(shape: [1, 1, h, w], values: mask.map { $0 >= 0.5 ? 1 : 0 }),
                                                    multiple: sizeMultiple)
        if let text = model.text {
            guard guide == nil else { throw PipelineError.coarseToFineUnsupported }
            guard let prompt = settings.text else { throw PipelineError.promptRequired }
            let run = model.inpaintingMethod == .blended
                ? try blendedStableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                             callbacks: callbacks, workspace: ws)
                : try stableDiffusion(image: padded, mask: maskTensor, text: text, prompt: prompt, settings: settings,
                                      callbacks: callbacks, workspace: ws)
            // diffusers' postprocess (clamp(x/2 + 0.5, 0, 1)) inside the mask, the source outside.
            var result = ImageTensor.image(run.decoded, width: w, height: h)
            for p in 0..<(w * h) where mask[p] < 0.5 {
                for c in 0..<3 { result.rgb[c * w * h + p] = image.rgb[c * w * h + p] }
            }
            result.alpha = image.alpha
            return result
        }
        guard settings.text == nil else { throw PipelineError.promptNotAccepted }
        var conditioning = try InpaintingConditioning(image: padded, mask: maskTensor, firstStage: model.firstStage.config)
        let f = model.firstStage.downsamplingFactor
        let encoderGrid = model.firstStage.encoderGrid(height: padded.shape[2] / f, width: padded.shape[3] / f, tiling: settings.tiling)
        conditioning.encoderGrid = encoderGrid
        conditioning.encoderNormalisation = settings.tiling.normalisation
        try model.check(conditioning)
        let cond = try conditioning.conditioning(firstStage: model.firstStage, workspace: ws)
        ws.releaseAll()  // the encoder phase is over (cond keeps its own storage)
        let denoiser = ModelGuide.denoiser(ModelDenoiser(model: model, conditioning: cond, tiling: settings.tiling), guide: self.guide,
                                            tiling: settings.tiling)
        let latentShape = [1, model.firstStage.latentChannels, cond.shape[2], cond.shape[3]]
        var loop = DiffusionLoop(model: model, sampler: setup.sampler(settings))
        let decoded: Tensor
        if let guide {
            guard guide.image.width == w, guide.image.height == h else {
                throw PipelineError.shapeMismatch(argument: "guide image", expected: "\(w)x\(h)", actual: [guide.image.height, guide.image.width])
            }
            let padded = try ImageTensor.reflectPad(try ImageTensor.tensor(guide.image), multiple: sizeMultiple)
            // The guide encoded on the masked image's tiles.
            let clean = try model.firstStage.encode(padded, grid: encoderGrid, normalisation: settings.tiling.normalisation, workspace: ws).copy()
            ws.releaseAll()
            // The hole at latent size: the conditioning's mask channel (+1 = repaint), its last.
            let (lh, lw, last) = (cond.shape[2], cond.shape[3], cond.shape[1] - 1)
            let region = (0..<(lh * lw)).map { cond.data[last * lh * lw + $0] > 0 ? Float(1) : 0 }
            decoded = try loop.guided(clean, region: region, blur: CoarseToFine.guidanceBlur, share: guide.share, denoiser: denoiser,
                                      settings: settings, callbacks: callbacks, workspace: ws)
        } else {
            decoded = try loop.run(denoiser, latentShape: latentShape, settings: settings, callbacks: callbacks, workspace: ws)
        }
        return Self.blend(image, mask: mask, decoded: decoded)
    }

    /// inpaint.py: image, mask and prediction back to [0, 1] from [−1, 1], clamped; blend.
    /// - decoded: [1, 3, H', W'] (H' ≥ height, W' ≥ width, padded) → width × height
    static func blend(_ image: PlanarImage, mask: [Float], decoded: Tensor) -> PlanarImage {
        let (w, h) = (image.width, image.height)
        let (ph, pw) = (decoded.shape[2], decoded.shape[3])
        var rgb = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    let m: Float = mask[i] >= 0.5 ? 1 : 0
                    let source = min(max(((2 * image.rgb[c * w * h + i] - 1) + 1) / 2, 0), 1)
                    let prediction = min(max((decoded.data[(c * ph + y) * pw + x] + 1) / 2, 0), 1)
                    rgb[c * w * h + i] = (1 - m) * source + m * prediction
                }
            }
        }
        return PlanarImage(width: w, height: h, rgb: rgb, alpha: image.alpha)
    }
}
