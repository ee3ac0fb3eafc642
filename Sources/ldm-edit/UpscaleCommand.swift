import ArgumentParser
import LDMImageIO
import LDMModels
import LDMPipelines

extension LDMEdit {
    /// `ldm-edit upscale`: 4x super-resolution.
    struct Upscale: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upscale images 4x.",
            discussion: """
                With --model, a latent-diffusion super-resolution model does the work (diffusers \
                LDMSuperResolutionPipeline semantics; the same --seed gives the Python reference's \
                result); otherwise a classical resampler (--method). Inputs are image files or \
                folders (their PNG, JPEG and TIFF files, not recursive). Each output keeps the \
                input's format unless -o names a file with another extension, and keeps its bit \
                depth, gray/colour layout and alpha (alpha is resampled with Lanczos; JPEG outputs \
                are 8-bit without alpha). Any input size: the output is exactly 4x.

                Examples:
                  ldm-edit upscale Samples/lowres/chelsea.png -o chelsea_x4.png
                  ldm-edit upscale photo.png --model ldm-super-resolution-4x-openimages/ --steps 100 --seed 42
                  ldm-edit upscale Samples/lowres -o upscaled/ --method bicubic
                """)

        static let factor = 4

        @Argument(help: ArgumentHelp("Image files or folders.", valueName: "input"))
        var inputs: [String]

        @Option(name: .long, help: "Classical resampling method (used without --model).")
        var method: ResamplingFilter?

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var tilingOptions: TilingOptions
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var runOptions: RunOptions
        @OptionGroup var globalOptions: GlobalOptions

        func validate() throws {
            try BatchPlan.validate(inputs: inputs, output: outputOptions.output)
            if method != nil, modelOptions.model != nil {
                throw ValidationError("--method is for classical upscaling; it cannot be combined with --model.")
            }
        }

        func run() throws {
            globalOptions.applyThreads()
            let reporter = Reporter()
            let transform: BatchRunner.Transform
            var provenance: Provenance
            // Diffusion with --model or a default model (ModelLocator); classical with --method or when none is found.
            if method == nil, let modelPath = modelOptions.resolvedModel(for: .superResolution) {
                let (weights, model) = try modelOptions.load(for: .superResolution, reporter: reporter)
                let pipeline = try SuperResolutionPipeline(weights: weights, model: model)
                let settings = modelOptions.settings(reporter)
                provenance = try modelOptions.provenance(task: "upscale", modelPath: modelPath, settings: settings, reporter: reporter)
                provenance.tiling = tilingOptions.keyDescription
                let planner = try MemoryPlanner(model: model, weightBytes: weights.parameterCount * 4)
                let (requested, budget, maxPixels) = (tilingOptions.requested, tilingOptions.budget, globalOptions.maxPixels)
                let multiple = pipeline.sizeMultiple
                transform = { job, raster, callbacks, notes in
                    try BatchRunner.checkPixelCeiling(width: raster.width * Self.factor, height: raster.height * Self.factor,
                                                      limit: maxPixels, input: job.input)
                    let (lh, lw) = ((raster.height + multiple - 1) / multiple * multiple, (raster.width + multiple - 1) / multiple * multiple)
                    var settings = settings
                    let (plan, estimate) = try planner.plan(latentHeight: lh, latentWidth: lw, preferred: requested, budget: budget, encodes: false)
                    settings.tiling = plan
                    (notes.plan, notes.estimatedPeakBytes) = (plan.description, estimate.total)
                    if plan != requested {
                        reporter.warning("\(job.input): tiles reduced to \(plan) to stay under \(budget >> 20) MiB (estimated peak \(estimate.total >> 20) MiB); the result differs from the default plan's")
                    }
                    let result = try pipeline.run(PlanarImage(raster), settings: settings, callbacks: callbacks)
                    return result.raster(bitDepth: raster.bitDepth, channels: raster.channels)
                }
            } else {
                let filter = method ?? .lanczos
                provenance = Provenance(version: LDMEdit.version, task: "upscale", method: filter.rawValue)
                let maxPixels = globalOptions.maxPixels
                transform = { job, raster, _, _ in
                    let (width, height) = (raster.width * Self.factor, raster.height * Self.factor)
                    try BatchRunner.checkPixelCeiling(width: width, height: height, limit: maxPixels, input: job.input)
                    return Resampler.resize(raster, width: width, height: height, filter: filter)
                }
            }
            let plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_x\(Self.factor)", naming: outputOptions.naming)
            let runner = try BatchRunner(plan: plan, provenance: provenance, run: runOptions, output: outputOptions, global: globalOptions)
            let summary = runner.run(transform)
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
