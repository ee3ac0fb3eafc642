import LDMModels

extension Candidates {
    /// Seeds previewed by default by ldm-edit's own inpainting models.
    public static let ownModelsCount = 8

    /// The candidates an inpainting request for these weights' model uses when it names none; nil: the seed alone.
    ///
    /// ldm-edit's own inpainting models (the normalisation-free conv autoencoder first stage, `FirstStageConfig.conv`,
    /// which only `Scripts/train` makes; U-Nets trained on 128-pixel crops) preview `ownModelsCount` seeds and blend
    /// the kept fill with their mean. On all 16 held-out crops that lifts the hole PSNR of the bundled model by
    /// 1.64 / 1.65 dB (centre / strokes, paired, higher on 16 of 16 crops each) over one sample and lowers its seams,
    /// meeting the targets one sample misses, at 4.4–4.7× the time of one sample (docs/quality.md, "Blending the
    /// candidates"). The other families (CompVis LDM, Stable Diffusion) keep one seed, as their reference scripts do:
    /// nothing here was measured on them.
    public static func modelDefault(for weights: ModelWeights) -> Candidates? {
        guard weights.task == .inpainting, weights.textEncoder == nil, case .conv = weights.firstStage else { return nil }
        return Candidates(count: ownModelsCount, blendsMean: true)
    }
}
