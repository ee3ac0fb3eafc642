import LDMModels
import LDMPipelines

/// What a model is, read from its weights without building it: the task it serves, whether it reads a
/// prompt, its own sampler and steps, and the lines `ldm-edit inspect` prints for it (`CheckpointSummary`).
///
/// The server lists models with it; choosing what to offer needs no loaded `Editor`.
public struct ModelDescription: Sendable, Equatable {
    /// The file or diffusers folder.
    public let path: String
    public let task: EditTask
    /// A Stable Diffusion model: its requests need a prompt (`PromptRequest`), others take none.
    public let takesPrompt: Bool
    /// The sampler and steps requests use when they choose none (`SamplingDefault`).
    public let defaultSampling: SamplingDefault
    public var defaultSampler: SamplerKind { defaultSampling.sampler }
    /// The seeds an inpainting request previews when it names no count (`Candidates.modelDefault`); nil: one.
    public let defaultCandidates: Candidates?
    /// The guidance scale of the model's own pipeline (the x4 upscaler: 9; Stable Diffusion inpainting: 7.5).
    public let defaultGuidance: Float
    /// The low-res noise levels a noise-augmented upscaler (stable-diffusion-x4-upscaler) accepts, 0 … its
    /// `max_noise_level`; nil for every other model (they take no noise level).
    public let noiseLevels: ClosedRange<Int>?
    /// `CheckpointSummary.describe(_:)`: task, layout, architecture, parameters, weights, provenance.
    public let summary: [String]

    /// Opens the weights at `path` (`ModelWeights.open`: headers and shapes, strict audit) and checks that
    /// they build (`checkRunnable`). Errors: `CheckpointError` for anything that is not a usable model.
    public init(path: String, useEMA: Bool = true) throws {
        let weights = try ModelWeights.open(path, useEMA: useEMA)
        try weights.checkRunnable()
        self.path = path
        task = weights.task == .superResolution ? .upscale : .inpaint
        takesPrompt = weights.textEncoder != nil
        defaultSampling = SamplingDefault(for: weights)
        defaultCandidates = Candidates.modelDefault(for: weights)
        defaultGuidance = LatentDiffusionModel.defaultGuidance(for: weights)
        noiseLevels = weights.noiseAugmentation.map { 0...$0.maxNoiseLevel }
        summary = CheckpointSummary.describe(weights)
    }

    /// The noise level used when a request gives none (diffusers' pipeline default, 20); nil without `noiseLevels`.
    public var defaultNoiseLevel: Int? { noiseLevels != nil ? NoiseAugmentationConfig.defaultNoiseLevel : nil }

    /// The name shown for it: the file or folder name.
    public var name: String { ModelReference(path: path, sha256: "").name }
}
