import LDMImageIO
import LDMPipelines

extension Editor {
    func upscaleClassically(_ image: RasterImage, method: ResamplingFilter) throws -> EditResult {
        let (width, height) = (image.width * Self.classicalFactor, image.height * Self.classicalFactor)
        try checkResultSize(width: width, height: height)
        return EditResult(image: Resampler.resize(image, width: width, height: height, filter: method))
    }

    func upscale(_ image: RasterImage, request: EditRequest, pipeline: SuperResolutionPipeline, planner: MemoryPlanner,
                 callbacks: PipelineCallbacks, warn: (EditWarning) -> Void) throws -> EditResult {
        guard let sampling = request.sampling, let tiling = request.tiling else { throw RequestError.inconsistent(task: task, reason: "needs a model") }
        let factor = pipeline.model.firstStage.downsamplingFactor
        try checkResultSize(width: image.width * factor, height: image.height * factor)
        let tiles = TilePlanner(planner: planner, request: tiling, availableMemory: availableMemory)
        let plan = try tiles.upscale(width: image.width, height: image.height, sizeMultiple: pipeline.sizeMultiple)
        if plan.isReduced { warn(.tilesReduced(to: plan.tiling, budget: tiles.budget, estimatedPeak: plan.estimate.total)) }
        var settings = sampling.settings(tiling: plan.tiling)
        settings.text = request.prompt?.textPrompt
        settings.noiseLevel = request.noiseLevel
        let result = try pipeline.run(PlanarImage(image), settings: settings, callbacks: callbacks)
        return EditResult(image: result.raster(bitDepth: image.bitDepth, channels: image.channels), plan: plan.tiling.description,
                          estimatedPeakBytes: plan.estimate.total)
    }
}
