import Foundation
import LDMImageIO
import LDMModels
import LDMParallel
import LDMPipelines

/// Runs edit requests: the layer the command line and the server share.
///
/// An editor is loaded once for a task and a model (or for classical upscaling) and then runs any
/// number of requests for that model, one image at a time, with progress and cancellation:
///
///     let editor = try Editor(task: .inpaint, modelPath: "last.ckpt")
///     let request = EditRequest.inpaint(model: editor.model!, sampling: try SamplingRequest(steps: 20, seed: 1))
///     let result = try editor.run(request, image: photo, mask: mask, callbacks: EditCallbacks(progress: { step, steps in … }))
///
/// Per image it checks the result size, plans tiles under the memory ceiling, prepares the mask,
/// runs the pipeline and composites the fill into the source (pixels outside the mask stay the
/// source's, bit for bit).
public struct Editor: Sendable {
    public let task: EditTask
    /// The loaded model, hashed; nil for classical upscaling.
    public let model: ModelReference?
    /// The loaded guide model (autoguidance), hashed; nil: none loaded. The pipeline holds it, checked against the
    /// model at load; requests that name it give its weight.
    public let guide: ModelReference?
    /// Largest result accepted, in pixels (the same bomb guard as for reading inputs).
    public var maxPixels = ImageReadOptions.defaultMaxPixels
    /// Threads one edit asks for (nil: the process default). Each edit runs as its own computation
    /// on a share of `cores` (between 1 and this many, whatever is free when it starts), so edits
    /// running at once — the server's — never oversubscribe the machine; results do not depend on it.
    public var threads: Int?
    /// The cores edits share; one budget per process.
    public var cores: CoreBudget = .shared
    let engine: Engine
    /// Memory available when the model had been loaded: the default ceiling is 75 % of it.
    let availableMemory: Int?

    enum Engine: Sendable {
        case classical
        case superResolution(SuperResolutionPipeline, MemoryPlanner)
        case inpainting(InpaintingPipeline, MemoryPlanner)
    }

    /// The scale of classical upscaling (diffusion models scale by their first stage's factor).
    public static let classicalFactor = 4

    /// Loads the model at `modelPath` for `task` (nil: classical upscaling), checks that it serves
    /// the task, measures its memory use (`MemoryPlanner`) and hashes it (`ContentHash`; after
    /// loading, so a wrong model fails fast). `halfWeights` holds the weights as float16
    /// (`WeightPrecision.float16`). Errors: `CheckpointError` for an unusable model,
    /// `EditError.cannotHash`, `RequestError.inconsistent` for inpainting without a model.
    /// `guidePath`: a weaker model of the same task to guide this one with (`Autoguidance`), loaded with the same EMA
    /// and precision choices and checked against it (`PipelineError.guideMismatch`); requests that name it use it.
    public init(task: EditTask, modelPath: String?, useEMA: Bool = true, halfWeights: Bool = false, guidePath: String? = nil) throws {
        self.task = task
        guard let modelPath else {
            guard task == .upscale else { throw RequestError.inconsistent(task: task, reason: "needs a model") }
            guard guidePath == nil else { throw RequestError.inconsistent(task: task, reason: "a guide model needs a model") }
            (model, engine, availableMemory, guide) = (nil, .classical, nil, nil)
            return
        }
        var weights = try ModelWeights.open(modelPath, useEMA: useEMA)
        if halfWeights { weights.precision = .float16 }
        try weights.require(task: task.modelTask)
        let loaded = try LatentDiffusionModel(weights: weights)
        var modelGuide: ModelGuide?, guideBytes = 0
        if let guidePath {
            var guideWeights = try ModelWeights.open(guidePath, useEMA: useEMA)
            if halfWeights { guideWeights.precision = .float16 }
            // Its task, like the rest, is checked against the model's when it is attached (`PipelineError.guideMismatch`).
            guideBytes = guideWeights.memoryBytes
            modelGuide = try ModelGuide(weights: guideWeights, model: try LatentDiffusionModel(weights: guideWeights), weight: GuideRequest.defaultWeight)
        }
        // The guide's weights stay resident beside the model's; its activations are the model's size or less.
        let planner = try MemoryPlanner(model: loaded, weightBytes: weights.memoryBytes + guideBytes)
        switch task {
        case .upscale:
            var pipeline = try SuperResolutionPipeline(weights: weights, model: loaded)
            if let modelGuide { pipeline = try pipeline.guided(by: modelGuide) }
            engine = .superResolution(pipeline, planner)
        case .inpaint:
            var pipeline = try InpaintingPipeline(weights: weights, model: loaded)
            if let modelGuide { pipeline = try pipeline.guided(by: modelGuide) }
            engine = .inpainting(pipeline, planner)
        }
        availableMemory = System.availableMemoryBytes
        model = try ModelReference(hashing: modelPath, useEMA: useEMA, halfWeights: halfWeights)
        guide = try guidePath.map { try ModelReference(hashing: $0, useEMA: useEMA, halfWeights: halfWeights) }
    }

    /// Edits `image` as `request` says (`mask`: the inpainting mask raster, any size the request
    /// accepts). Throws `EditError.cancelled` when the token is cancelled before or during the run.
    public func run(_ request: EditRequest, image: RasterImage, mask: RasterImage? = nil,
                    callbacks: EditCallbacks = EditCallbacks()) throws -> EditResult {
        try cores.run(requesting: threads ?? Parallel.threads) { _ in
            try runInContext(request, image: image, mask: mask, callbacks: callbacks)
        }
    }

    private func runInContext(_ request: EditRequest, image: RasterImage, mask: RasterImage?,
                              callbacks: EditCallbacks) throws -> EditResult {
        try check(request)
        if callbacks.cancellation.isCancelled { throw EditError.cancelled }
        let pipelineCallbacks = PipelineCallbacks(progress: callbacks.progress, isCancelled: { callbacks.cancellation.isCancelled })
        var warnings: [EditWarning] = []
        func warn(_ warning: EditWarning) {
            warnings.append(warning)
            callbacks.warning(warning)
        }
        do {
            var result: EditResult
            switch engine {
            case .classical:
                result = try upscaleClassically(image, method: request.method ?? .lanczos)
            case .superResolution(let pipeline, let planner):
                result = try upscale(image, request: request, pipeline: pipeline.withGuideWeight(request.guide?.weight), planner: planner, callbacks: pipelineCallbacks, warn: warn)
            case .inpainting(let pipeline, let planner):
                guard let mask else { throw EditError.maskRequired }
                result = try inpaint(image, mask: mask, request: request, pipeline: pipeline.withGuideWeight(request.guide?.weight), planner: planner, callbacks: pipelineCallbacks,
                                     warn: warn)
            }
            result.warnings = warnings
            return result
        } catch PipelineError.cancelled {
            throw EditError.cancelled
        }
    }

    /// The loaded diffusion model (nil: classical upscaling).
    var diffusionModel: LatentDiffusionModel? {
        switch engine {
        case .classical: nil
        case .superResolution(let pipeline, _): pipeline.model
        case .inpainting(let pipeline, _): pipeline.model
        }
    }

    /// Whether the model is conditioned on text (Stable Diffusion, the x4 upscaler): its requests need a prompt, others take none.
    public var takesPrompt: Bool { diffusionModel?.text != nil }

    /// The noise levels a noise-augmented upscaler (stable-diffusion-x4-upscaler) accepts (0 … max_noise_level); nil for
    /// every other model, which take none.
    public var noiseLevels: ClosedRange<Int>? { diffusionModel?.noiseAugmentation?.levels }

    /// The noise level requests of a noise-augmented upscaler use when they name none (diffusers' 20); nil for other models.
    public var defaultNoiseLevel: Int? { noiseLevels != nil ? NoiseAugmentationConfig.defaultNoiseLevel : nil }

    /// The guidance scale of the model's own pipeline (the x4 upscaler: 9; Stable Diffusion inpainting: 7.5).
    public var defaultGuidance: Float { diffusionModel?.noiseAugmentation != nil ? 9 : PromptRequest.defaultGuidance }

    /// The sampler and steps for requests that choose none (`SamplingDefault`: Stable Diffusion its scheduler, PNDM
    /// for SD 1.x; LDM super-resolution DDIM 50; LDM inpainting DPM-Solver++(2M) Karras 15).
    public var defaultSampling: SamplingDefault {
        switch engine {
        case .classical: SamplingDefault(sampler: .ddim, steps: SamplingDefault.commonSteps)
        case .superResolution(let pipeline, _): pipeline.model.defaultSampling
        case .inpainting(let pipeline, _): pipeline.model.defaultSampling
        }
    }

    /// `defaultSampling`'s sampler.
    public var defaultSampler: SamplerKind { defaultSampling.sampler }

    /// The seeds an inpainting request previews when it names no count (`Candidates.modelDefault`: ldm-edit's own
    /// inpainting models 8, blended with their mean); nil: one, and for the other tasks.
    public var defaultCandidates: Candidates? {
        if case .inpainting(let pipeline, _) = engine { return pipeline.model.defaultCandidates }
        return nil
    }

    /// Throws unless `request` fits this editor: its own consistency, the task and model, a prompt exactly when the
    /// model reads text (`promptRequired`, `promptNotAccepted`), prompts within the text encoder's 77 tokens
    /// (`RequestError.promptTooLong`), and a hole limit only for a model that reads none (`coarseToFineNotAccepted`).
    public func check(_ request: EditRequest) throws {
        try request.validate()
        if let levels = noiseLevels {
            if let level = request.noiseLevel, !levels.contains(level) { throw RequestError.noiseLevel(level, maximum: levels.upperBound) }
        } else if request.noiseLevel != nil {
            throw RequestError.noiseLevelNotAccepted
        }
        if let text = diffusionModel?.text {
            if request.inpainting?.holeLimit != nil { throw RequestError.coarseToFineNotAccepted }
            guard let prompt = request.prompt else {
                throw RequestError.promptRequired
            }
            for (negative, words) in [(false, prompt.prompt), (true, prompt.negativePrompt ?? "")] {
                let count = text.tokenCount(words)
                if count > text.tokenLimit { throw RequestError.promptTooLong(negative: negative, tokenCount: count, limit: text.tokenLimit) }
            }
        } else if request.prompt != nil {
            throw RequestError.promptNotAccepted
        }
        let loaded = model.map { ($0.sha256, $0.useEMA, $0.halfWeights) }, asked = request.model.map { ($0.sha256, $0.useEMA, $0.halfWeights) }
        guard request.task == task, loaded?.0 == asked?.0, loaded?.1 == asked?.1, loaded?.2 == asked?.2 else {
            func describe(_ task: EditTask, _ model: ModelReference?) -> String {
                "\(task.rawValue) with " + (model.map { "model \($0.sha256.prefix(12))" + ($0.useEMA ? "" : " (raw weights)")
                    + ($0.halfWeights ? " (float16 weights)" : "") } ?? "no model")
            }
            throw EditError.requestMismatch(editor: describe(task, model), request: describe(request.task, request.model))
        }
        if let asked = request.guide, asked.model.sha256 != guide?.sha256 {
            throw EditError.requestMismatch(editor: guide.map { "guide model \($0.sha256.prefix(12))" } ?? "no guide model",
                                            request: "guide model \(asked.model.sha256.prefix(12))")
        }
    }

    /// Refuses results larger than the pixel ceiling before computing them.
    func checkResultSize(width: Int, height: Int) throws(EditError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels { throw .resultTooLarge(width: width, height: height, limit: maxPixels) }
    }
}
