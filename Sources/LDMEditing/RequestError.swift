import LDMPipelines

/// Why an edit request cannot be run: a value out of range, or parts that do not belong together.
/// Payloads are the offending values; the command line names its own flags for them.
public enum RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Sampling steps outside 1...1000.
    case steps(Int)
    /// DDIM η outside [0, 1].
    case eta(Float)
    /// A U-Net tile side below `TilingRequest.minimumTile`.
    case tile(Int)
    /// A tile overlap below 0 or not smaller than the tile.
    case tileOverlap(overlap: Int, tile: Int)
    /// A memory ceiling of 0 bytes or less.
    case maxMemory(Int)
    /// A negative dilation radius.
    case maskDilate(Int)
    /// A negative crop margin.
    case cropMargin(Int)
    /// A resize limit below `InpaintingRequest.minimumResizeLimit`.
    case resizeLimit(Int)
    /// A hole limit below `CoarseToFine.minimumHoleLimit`.
    case holeLimit(Int)
    /// A coarse-to-fine guidance share outside (0, 1].
    case coarseGuidance(Double)
    /// A candidate count outside 1 … `Candidates.maximum`.
    case candidates(Int)
    /// Preview steps outside 1 … `SamplingRequest.maximumSteps`.
    case previewSteps(Int)
    /// A hole limit for a text-conditioned model (coarse-to-fine runs with the LDM inpainting models only).
    case coarseToFineNotAccepted
    /// An output bit depth other than 8 or 16.
    case bitDepth(Int)
    /// A JPEG quality outside 1...100.
    case jpegQuality(Int)
    /// Parts that do not belong together (a classical method with a model, inpainting without a
    /// model, ...): `reason` says which.
    case inconsistent(task: EditTask, reason: String)
    /// A guidance scale that is negative or not finite.
    case guidance(Float)
    /// An autoguidance weight outside 0 … `GuideRequest.maximumWeight`.
    case guideWeight(Float)
    /// A prompt (or the negative prompt) longer than the text encoder reads; both counts include the start and
    /// end tokens.
    case promptTooLong(negative: Bool, tokenCount: Int, limit: Int)
    /// A model conditioned on text (Stable Diffusion) asked without a prompt.
    case promptRequired
    /// A prompt for a model that reads no text.
    case promptNotAccepted
    /// A low-res noise level outside 0 … `maximum` (the x4 upscaler: 350).
    case noiseLevel(Int, maximum: Int)
    /// A noise level for a model that does not noise its low-res input (every model but the x4 upscaler).
    case noiseLevelNotAccepted
    /// A field of an encoded request that cannot be read (`field` names it).
    case unreadable(field: String, value: String)

    public var description: String {
        switch self {
        case .steps(let n): "sampling steps must be 1-1000, got \(n)"
        case .eta(let eta): "eta must be between 0 and 1, got \(eta)"
        case .tile(let tile): "the tile side must be at least \(TilingRequest.minimumTile), got \(tile)"
        case .tileOverlap(let overlap, let tile): "the tile overlap must be 0 or more and smaller than the tile (\(tile)), got \(overlap)"
        case .maxMemory(let bytes): "the memory ceiling must be positive, got \(bytes) bytes"
        case .maskDilate(let px): "the mask dilation must be 0 or more, got \(px)"
        case .cropMargin(let px): "the crop margin must be 0 or more, got \(px)"
        case .resizeLimit(let px): "the resize limit must be at least \(InpaintingRequest.minimumResizeLimit), got \(px)"
        case .holeLimit(let px): "the hole limit must be at least \(CoarseToFine.minimumHoleLimit) pixels, got \(px)"
        case .coarseGuidance(let s): "the coarse guidance share must be above 0 and at most 1, got \(s)"
        case .candidates(let n): "the number of candidates must be 1-\(Candidates.maximum), got \(n)"
        case .previewSteps(let n): "the preview steps must be 1-\(SamplingRequest.maximumSteps), got \(n)"
        case .coarseToFineNotAccepted: "coarse-to-fine filling of large holes runs with the LDM inpainting models only, not text-conditioned ones"
        case .bitDepth(let depth): "the output bit depth must be 8 or 16, got \(depth)"
        case .jpegQuality(let quality): "the JPEG quality must be 1-100, got \(quality)"
        case .guidance(let scale): "the guidance scale must be 0 or more, got \(scale)"
        case .guideWeight(let w): "the guide weight must be 0-\(Int(GuideRequest.maximumWeight)), got \(w)"
        case .promptTooLong(let negative, let count, let limit):
            "the \(negative ? "negative prompt" : "prompt") is \(count) tokens long with its start and end tokens; the text encoder reads at most \(limit), so it is \(count - limit) too many"
        case .promptRequired: "this model is conditioned on text and needs a prompt (it may be empty)"
        case .promptNotAccepted: "this model reads no text; a prompt, negative prompt or guidance scale does not apply"
        case .noiseLevel(let level, let maximum): "the noise level must be 0-\(maximum), got \(level)"
        case .noiseLevelNotAccepted: "this model does not noise its low-res input; a noise level does not apply"
        case .inconsistent(let task, let reason): "\(task.rawValue): \(reason)"
        case .unreadable(let field, let value): "\(field): cannot read \(value)"
        }
    }
}
