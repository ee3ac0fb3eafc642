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

                stable-diffusion-x4-upscaler (a diffusers folder or the CompVis x4-upscaler-ema.safetensors) is \
                text-guided: --prompt (default "": none), --negative-prompt, --guidance (default 9) and \
                --noise-level (default 20, at most 350: how much noise is added to the input before it guides \
                the model; more gives the model more freedom), as diffusers' StableDiffusionUpscalePipeline; \
                it samples with its own scheduler (DDIM, v-prediction) unless --sampler says otherwise.

                Examples:
                  ldm-edit upscale Samples/lowres/chelsea.png -o chelsea_x4.png
                  ldm-edit upscale photo.png --model ldm-super-resolution-4x-openimages/ --steps 100 --seed 42
                  ldm-edit upscale photo.png --model stable-diffusion-x4-upscaler/ --prompt "a white cat" --steps 25
                  ldm-edit upscale Samples/lowres -o upscaled/ --method bicubic
                """)

        @Argument(help: ArgumentHelp("Image files or folders.", valueName: "input"))
        var inputs: [String]

        @Option(name: .long, help: "Classical resampling method (used without --model).")
        var method: ResamplingFilter?

        @Option(help: ArgumentHelp("Text prompt for the Stable Diffusion x4 upscaler (default \"\": none; at most 77 tokens with start and end). Models that read no text refuse it.", valueName: "text"))
        var prompt: String?

        @Option(name: .customLong("negative-prompt"), help: ArgumentHelp("What the result should not look like (x4 upscaler; used when --guidance is above 1).", valueName: "text"))
        var negativePrompt: String?

        @Option(help: ArgumentHelp("Classifier-free guidance scale for the x4 upscaler (default 9; 1 or less: the prompt alone, no negative).", valueName: "scale"))
        var guidance: Float?

        @Option(name: .customLong("noise-level"), help: ArgumentHelp("Noise added to the input before it guides the x4 upscaler, 0 to its maximum (350; default 20).", valueName: "n"))
        var noiseLevel: Int?

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
            if method != nil, let flag = prompt != nil ? "--prompt" : negativePrompt != nil ? "--negative-prompt"
                : guidance != nil ? "--guidance" : noiseLevel != nil ? "--noise-level" : nil {
                throw ValidationError("\(flag) needs a diffusion model (--model); it cannot be combined with --method.")
            }
            if let guidance { do { _ = try PromptRequest(prompt: "", guidance: guidance) } catch { throw ValidationError(UserMessage.describe(error)) } }
        }

        /// The prompt part of the request: for a text-guided model, the flags with its defaults ("" and its guidance);
        /// for another model, whatever text flags were given (the editor refuses them: `promptNotAccepted`).
        func promptRequest(for editor: Editor) throws(RequestError) -> PromptRequest? {
            guard editor.takesPrompt || prompt != nil || negativePrompt != nil || guidance != nil else { return nil }
            return try PromptRequest(prompt: prompt ?? "", negativePrompt: negativePrompt, guidance: guidance ?? editor.defaultGuidance)
        }

        func run() throws {
            globalOptions.applyThreads()
            let reporter = Reporter()
            // Diffusion with --model or a default model (ModelLocator); classical with --method or when none is found.
            let modelPath = method == nil ? ModelLocator.find(modelOptions.model, for: .superResolution) : nil
            if modelOptions.guideModel != nil && modelPath == nil {
                reporter.error("--guide-model needs a diffusion model (--model, or a bundled default); it cannot be combined with --method.")
                throw ExitCode(64)
            }
            let editor = try reporter.orExit { try Editor(task: .upscale, modelPath: modelPath, useEMA: !modelOptions.noEMA,
                                                                      halfWeights: modelOptions.halfWeights, guidePath: modelOptions.guideModel) }
            let request = try reporter.orExit { () throws -> EditRequest in
                let output = try outputOptions.request()
                guard let model = editor.model else { return .upscale(method: method ?? .lanczos, output: output) }
                var request = EditRequest.upscale(
                    model: model, sampling: try modelOptions.sampling(reporter, defaults: editor.defaultSampling, quiet: globalOptions.quiet),
                    tiling: try tilingOptions.request(), output: output, prompt: try promptRequest(for: editor),
                    noiseLevel: noiseLevel ?? editor.defaultNoiseLevel)
                request.guide = try modelOptions.guide(editor)
                return request
            }
            do {
                if editor.model == nil {  // classical resampling (no model found) reads neither text nor a noise level
                    if try promptRequest(for: editor) != nil { throw RequestError.promptNotAccepted }
                    if noiseLevel != nil { throw RequestError.noiseLevelNotAccepted }
                }
                try editor.check(request)  // text and noise level only where the model takes them, within their bounds
            } catch {
                reporter.error(UserMessage.describe(error))
                throw ExitCode(64)
            }
            let plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_x\(Editor.classicalFactor)", naming: outputOptions.naming)
            let runner = try BatchRunner(plan: plan, editor: editor, request: request, run: runOptions, output: outputOptions, global: globalOptions)
            let summary = runner.run()
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
