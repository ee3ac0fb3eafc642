import LDMImageIO
import LDMPipelines

extension Editor {
    func inpaint(_ image: RasterImage, mask: RasterImage, request: EditRequest, pipeline: InpaintingPipeline, planner: MemoryPlanner,
                 callbacks: PipelineCallbacks, warn: (EditWarning) -> Void) throws -> EditResult {
        guard let sampling = request.sampling, let tiling = request.tiling, let options = request.inpainting else {
            throw RequestError.inconsistent(task: task, reason: "needs a model and inpainting options")
        }
        let prepared = try options.prepare(mask: mask, width: image.width, height: image.height)
        for warning in prepared.warnings { warn(.mask(warning)) }
        if pipeline.model.inpaintingMethod == .blended { warn(.blendedInpainting) }
        // Each model run (whole image, crop window or resized image) gets the tiles that fit the ceiling.
        let tiles = TilePlanner(planner: planner, request: tiling, availableMemory: availableMemory)
        let (multiple, factor) = (pipeline.sizeMultiple, pipeline.model.firstStage.downsamplingFactor)
        var peak = 0
        var reduced: [TilingSettings] = []
        var settings = sampling.settings(tiling: tiles.requested)
        settings.text = request.prompt?.textPrompt
        let (filled, strategyPlan) = try pipeline.run(PlanarImage(image), mask: prepared.values, settings: settings,
                                                      options: options.largeImageOptions,
                                                      coarseToFine: options.coarseToFine, candidates: options.candidateSetting,
                                                      callbacks: callbacks) { width, height in
            let plan = try tiles.inpaint(width: width, height: height, sizeMultiple: multiple, factor: factor, wholePixels: image.width * image.height,
                                         runBytesPerPixel: options.candidateSetting?.heldBytesPerPixel ?? 0)
            peak = max(peak, plan.estimate.total)
            if plan.isReduced { reduced.append(plan.tiling) }
            return plan.tiling
        }
        if let first = reduced.first { warn(.tilesReduced(to: first, budget: tiles.budget, estimatedPeak: nil)) }
        let plan = strategyPlan + (reduced.isEmpty ? "" : "; tiles reduced to " + reduced.map(\.description).joined(separator: ", "))
        return EditResult(image: InpaintingImages.composite(image, result: filled, mask: prepared.values), plan: plan, estimatedPeakBytes: peak)
    }
}
