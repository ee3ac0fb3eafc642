import LDMPipelines

/// How an inpainting edit treats its mask and a large image.
///
/// Values are normalised to what they mean: the crop margin only exists for strategies that may
/// crop (auto, crop) and the resize limit only for `resize`; otherwise they hold their defaults,
/// so requests that inpaint alike are equal and share a resume key.
public struct InpaintingRequest: Sendable, Equatable {
    /// Repaint the black part of the mask instead of the white.
    public let maskInvert: Bool
    /// Grow the repaint region by this many pixels (square neighbourhood).
    public let maskDilate: Int
    /// Accept a mask of another size, resized nearest-neighbour; otherwise a size mismatch is an error.
    public let maskResize: Bool
    public let strategy: InpaintingStrategy
    /// Context around each mask region for `crop` (and `auto` when it crops), in pixels.
    public let cropMargin: Int
    /// Long side the image is scaled to for `resize`, in pixels.
    public let resizeLimit: Int
    /// Holes whose largest square is wider than this (pixels) are filled coarse-to-fine (`CoarseToFine`); nil: never.
    public let holeLimit: Int?
    /// The share of the full-resolution steps the coarse fill guides; nil: `CoarseToFine.defaultShare`. Only with
    /// a hole limit.
    public let coarseGuidance: Double?
    /// Seeds previewed per run of the model, the consensus one kept (`Candidates`); 1: the seed alone.
    public let candidates: Int
    /// Steps of each candidate's preview; nil: `Candidates.previewShare` of the steps. Only with candidates.
    public let previewSteps: Int?
    /// The kept fill's low frequencies replaced by the previews' mean's (`Candidates.blendsMean`). Only with candidates.
    public let blendCandidates: Bool

    public static let defaultCropMargin = 128
    public static let defaultResizeLimit = 1024
    public static let minimumResizeLimit = 64

    public init(maskInvert: Bool = false, maskDilate: Int = 0, maskResize: Bool = false, strategy: InpaintingStrategy = .auto,
                cropMargin: Int = defaultCropMargin, resizeLimit: Int = defaultResizeLimit, holeLimit: Int? = nil,
                coarseGuidance: Double? = nil, candidates: Int = 1, previewSteps: Int? = nil,
                blendCandidates: Bool = false) throws(RequestError) {
        guard maskDilate >= 0 else { throw .maskDilate(maskDilate) }
        guard candidates >= 1 && candidates <= Candidates.maximum else { throw .candidates(candidates) }
        if let previewSteps, !(previewSteps >= 1 && previewSteps <= SamplingRequest.maximumSteps) { throw .previewSteps(previewSteps) }
        self.candidates = candidates
        // Normalised as the hole limit's share: preview steps without candidates mean nothing.
        self.previewSteps = candidates == 1 ? nil : previewSteps
        self.blendCandidates = candidates > 1 && blendCandidates
        if let holeLimit, holeLimit < CoarseToFine.minimumHoleLimit { throw .holeLimit(holeLimit) }
        if let coarseGuidance, !(coarseGuidance > 0 && coarseGuidance <= 1) { throw .coarseGuidance(coarseGuidance) }
        self.holeLimit = holeLimit
        // Normalised as the other options: a share without a limit means nothing, the default share is the default.
        self.coarseGuidance = holeLimit == nil || coarseGuidance == CoarseToFine.defaultShare ? nil : coarseGuidance
        guard cropMargin >= 0 else { throw .cropMargin(cropMargin) }
        guard resizeLimit >= Self.minimumResizeLimit else { throw .resizeLimit(resizeLimit) }
        self.maskInvert = maskInvert
        self.maskDilate = maskDilate
        self.maskResize = maskResize
        self.strategy = strategy
        self.cropMargin = strategy == .full ? Self.defaultCropMargin : cropMargin
        self.resizeLimit = strategy == .resize ? resizeLimit : Self.defaultResizeLimit
    }

    /// The pipeline's coarse-to-fine setting; nil without a hole limit.
    var coarseToFine: CoarseToFine? {
        holeLimit.map { CoarseToFine(holeLimit: $0, share: coarseGuidance ?? CoarseToFine.defaultShare) }
    }

    /// The candidate count and blend of a request that may leave either out: as given, else the model's `defaults`
    /// (`Candidates.modelDefault`), else one seed; the blend only with two or more.
    public static func candidates(_ count: Int?, blend: Bool?, defaults: Candidates?) -> (count: Int, blend: Bool) {
        let resolved = count ?? defaults?.count ?? 1
        return (resolved, resolved > 1 && (blend ?? defaults?.blendsMean ?? false))
    }

    /// The pipeline's candidate setting; nil for one seed.
    var candidateSetting: Candidates? {
        candidates > 1 ? Candidates(count: candidates, previewSteps: previewSteps, blendsMean: blendCandidates) : nil
    }

    /// The pipeline's large-image options.
    var largeImageOptions: LargeImageOptions {
        LargeImageOptions(strategy: strategy, cropMargin: cropMargin, resizeLimit: resizeLimit)
    }
}
