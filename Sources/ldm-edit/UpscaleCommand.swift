import ArgumentParser
import LDMEditing
import LDMImageIO

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
            // Diffusion with --model or a default model (ModelLocator); classical with --method or when none is found.
            let modelPath = method == nil ? ModelLocator.find(modelOptions.model, for: .superResolution) : nil
            let editor = try reporter.orExit { try Editor(task: .upscale, modelPath: modelPath, useEMA: !modelOptions.noEMA) }
            let request = try reporter.orExit { () throws -> EditRequest in
                let output = try outputOptions.request()
                guard let model = editor.model else { return .upscale(method: method ?? .lanczos, output: output) }
                return .upscale(model: model, sampling: try modelOptions.sampling(reporter, defaultSampler: editor.defaultSampler), tiling: try tilingOptions.request(), output: output)
            }
            let plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_x\(Editor.classicalFactor)", naming: outputOptions.naming)
            let runner = try BatchRunner(plan: plan, editor: editor, request: request, run: runOptions, output: outputOptions, global: globalOptions)
            let summary = runner.run()
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
