import LDMImageIO
import LDMPipelines

/// One edit, described completely: the task, the model (identified by its SHA-256), how it is
/// sampled and tiled, the inpainting options and the output's bit depth and JPEG quality —
/// everything that decides the result's pixels, and nothing about where files live.
///
/// The command line builds one per batch; a server decodes one per HTTP request (`Codable`). Its
/// canonical encoding (`EditRequest+Coding.swift`: sorted keys, values normalised) is the settings
/// part of an output's provenance, and its hash with the input's and mask's is the resume key.
///
/// Shapes: classical upscaling has only `method`; a diffusion edit has `model`, `sampling` and
/// `tiling`, and inpainting also `inpainting`. The factories build these; `validate()` checks a
/// request assembled otherwise (decoded, or changed field by field).
public struct EditRequest: Sendable, Equatable {
    public var task: EditTask
    /// The diffusion model; nil: classical resampling (upscale only).
    public var model: ModelReference?
    /// The classical resampler (upscale without a model).
    public var method: ResamplingFilter?
    public var sampling: SamplingRequest?
    public var tiling: TilingRequest?
    /// Mask handling and the large-image strategy (inpaint only).
    public var inpainting: InpaintingRequest?
    public var output: OutputRequest
    /// The prompt of a text-conditioned model (Stable Diffusion inpainting, the x4 upscaler); nil for models that read no text.
    public var prompt: PromptRequest? = nil
    /// The low-res noise level of a noise-augmented upscaler (stable-diffusion-x4-upscaler); nil: its default (20), or a
    /// model without one.
    public var noiseLevel: Int? = nil
    /// The weaker model that guides `model` (autoguidance, LDM models only); nil: the model alone.
    public var guide: GuideRequest? = nil

    /// Classical 4x upscaling.
    public static func upscale(method: ResamplingFilter = .lanczos, output: OutputRequest = .keep) -> EditRequest {
        EditRequest(task: .upscale, model: nil, method: method, sampling: nil, tiling: nil, inpainting: nil, output: output)
    }

    /// Super-resolution with a diffusion model (the x4 upscaler: with a prompt and optionally a noise level).
    public static func upscale(model: ModelReference, sampling: SamplingRequest, tiling: TilingRequest = .standard,
                               output: OutputRequest = .keep, prompt: PromptRequest? = nil, noiseLevel: Int? = nil) -> EditRequest {
        EditRequest(task: .upscale, model: model, method: nil, sampling: sampling, tiling: tiling, inpainting: nil, output: output,
                    prompt: prompt, noiseLevel: noiseLevel)
    }

    /// Inpainting with a diffusion model.
    public static func inpaint(model: ModelReference, sampling: SamplingRequest, tiling: TilingRequest = .standard,
                               inpainting: InpaintingRequest = .standard, output: OutputRequest = .keep,
                               prompt: PromptRequest? = nil) -> EditRequest {
        EditRequest(task: .inpaint, model: model, method: nil, sampling: sampling, tiling: tiling, inpainting: inpainting, output: output,
                    prompt: prompt)
    }

    /// Throws unless the parts fit the task (see the type's comment).
    public func validate() throws(RequestError) {
        func fail(_ reason: String) -> RequestError { .inconsistent(task: task, reason: reason) }
        guard model != nil else {
            guard task == .upscale else { throw fail("needs a model") }
            guard method != nil else { throw fail("classical upscaling needs a method") }
            guard sampling == nil, tiling == nil, inpainting == nil else { throw fail("sampling and tiling need a model") }
            return
        }
        guard method == nil else { throw fail("a classical method cannot be combined with a model") }
        guard sampling != nil, tiling != nil else { throw fail("a model needs sampling and tiling settings") }
        guard (inpainting != nil) == (task == .inpaint) else { throw fail("inpainting options belong to inpainting only") }
        guard noiseLevel == nil || task == .upscale else { throw fail("a noise level belongs to noise-augmented upscaling only") }
        if let guide, let model, guide.model.useEMA != model.useEMA || guide.model.halfWeights != model.halfWeights {
            throw fail("the guide model loads with the model's weight choices (EMA, precision)")
        }
    }

    /// This request for one output file (JPEG quality only where it applies).
    public func forFile(isJPEG: Bool) -> EditRequest {
        var copy = self
        copy.output = output.forFile(isJPEG: isJPEG)
        return copy
    }

    /// The options besides model, sampling and tiling that change pixels, as provenance records
    /// them ("options"): name → value, only where they differ from the default.
    public var options: [String: String] {
        var options: [String: String] = [:]
        if let model, !model.useEMA { options["weights"] = "raw" }
        if let model, model.halfWeights { options["weights_precision"] = "float16" }
        if let depth = output.bitDepth { options["bit_depth"] = String(depth) }
        if let quality = output.jpegQuality { options["jpeg_quality"] = String(quality) }
        if let inpainting {
            if inpainting.maskInvert { options["mask_invert"] = "true" }
            if inpainting.maskDilate > 0 { options["mask_dilate"] = String(inpainting.maskDilate) }
            if inpainting.maskResize { options["mask_resize"] = "nearest" }
            options["strategy"] = inpainting.strategy.rawValue
            if inpainting.strategy != .full { options["crop_margin"] = String(inpainting.cropMargin) }
            if inpainting.strategy == .resize { options["resize_limit"] = String(inpainting.resizeLimit) }
            if let limit = inpainting.holeLimit { options["hole_limit"] = String(limit) }
            if let share = inpainting.coarseGuidance { options["coarse_guidance"] = String(share) }
            if inpainting.candidates > 1 { options["candidates"] = String(inpainting.candidates) }
            if let steps = inpainting.previewSteps { options["preview_steps"] = String(steps) }
            if inpainting.blendCandidates { options["blend_candidates"] = "true" }
        }
        return options
    }
}

extension TilingRequest {
    /// The standard plan (`TilingSettings.standard`) under the default memory ceiling.
    public static let standard = TilingRequest(standard: ())

    private init(standard: Void) {
        tiles = .standard
        maxMemory = nil
    }
}

extension InpaintingRequest {
    /// auto strategy, margin 128, no mask changes.
    public static let standard = InpaintingRequest(standard: ())

    private init(standard: Void) {
        (maskInvert, maskDilate, maskResize) = (false, 0, false)
        (strategy, cropMargin, resizeLimit) = (.auto, Self.defaultCropMargin, Self.defaultResizeLimit)
        (holeLimit, coarseGuidance, candidates, previewSteps, blendCandidates) = (nil, nil, 1, nil, false)
    }
}
