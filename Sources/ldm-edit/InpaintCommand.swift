import ArgumentParser
import Foundation
import LDMEditing
import LDMPipelines

extension LDMEdit {
    /// `ldm-edit inpaint`: fill the white part of a mask.
    struct Inpaint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill the white part of a mask with a latent-diffusion inpainting model.",
            discussion: """
                scripts/inpaint.py semantics (the same --seed gives the reference's result), with \
                three deliberate improvements: pixels outside the mask are copied bit for bit from \
                the source (bit depth and alpha untouched), results are rounded rather than \
                truncated, and any image size works (reflect-padded, cropped back). The mask is \
                gray or colour (white ≥ 50 % = repaint) and must have the image's size unless \
                --mask-resize is given. Masks: --mask (one for all), --mask-dir (same stem), or \
                without either the CompVis convention X.png + X_mask.png side by side; images without \
                a mask are reported before any work starts.

                Stable Diffusion 1.x inpainting checkpoints (a diffusers folder or a CompVis .ckpt/.safetensors) \
                take --prompt, --negative-prompt and --guidance, as diffusers' StableDiffusionInpaintPipeline; \
                without --sampler they sample with their own scheduler (PNDM for SD 1.x).

                Without --model the bundled model fills (8 candidates blended by default; --candidates 1 for one \
                sample, several times faster).

                Examples:
                  ldm-edit inpaint Samples/astronaut.png --mask Masks/astronaut_mask.png -o out.png
                  ldm-edit inpaint Samples/astronaut.png --mask Masks/astronaut_mask.png --model last.ckpt -o out.png
                  ldm-edit inpaint photo.png --mask m.png --model sd-v1-5-inpainting.ckpt --prompt "a red brick wall"
                """)

        @Argument(help: ArgumentHelp("Image files.", valueName: "image"))
        var inputs: [String]

        @Option(help: ArgumentHelp("Mask image (white = repaint), used for every input.", valueName: "file"))
        var mask: String?

        @Option(name: .customLong("mask-dir"), help: ArgumentHelp(
            "Folder of masks, one per image: <stem>.<ext> or <stem>_mask.<ext>.", valueName: "folder"))
        var maskDir: String?

        @Flag(name: .customLong("mask-invert"), help: "Swap white and black in the masks (repaint the black part).")
        var maskInvert = false

        @Option(name: .customLong("mask-dilate"), help: ArgumentHelp("Grow the repaint region by this many pixels.", valueName: "px"))
        var maskDilate: Int = 0

        @Flag(name: .customLong("mask-resize"), help: "Resize a mask of another size to the image (nearest neighbour).")
        var maskResize = false

        @Option(help: ArgumentHelp(
            "Large images: auto (full up to 1024 px on the long side, crop above), crop (a window around each mask region), resize (run at 1024 px, scale the fill up), full (whole image, tiled).",
            valueName: "strategy"))
        var strategy: InpaintingStrategy = .auto

        @Option(name: .customLong("crop-margin"), help: ArgumentHelp("Context around each mask region for --strategy crop, in pixels (default 128).", valueName: "px"))
        var cropMargin: Int = InpaintingRequest.defaultCropMargin

        @Option(name: .customLong("resize-limit"), help: ArgumentHelp("Long side the image is scaled to for --strategy resize (default 1024).", valueName: "px"))
        var resizeLimit: Int = InpaintingRequest.defaultResizeLimit

        @Option(name: .customLong("hole-limit"), help: ArgumentHelp(
            "Fill holes wider than this (the side of their largest square, in pixels) coarse-to-fine: first at the scale that makes them this wide, then at full resolution following that fill's low frequencies. For models trained on crops smaller than the hole (96 suited the bundled model while it trained on 128-pixel crops). Default: off.",
            valueName: "px"))
        var holeLimit: Int?

        @Option(name: .customLong("coarse-guidance"), help: ArgumentHelp(
            "With --hole-limit: the share of the full-resolution steps that follow the coarse fill (above 0, at most 1; default 1).",
            valueName: "share"))
        var coarseGuidance: Double?

        @Option(help: ArgumentHelp(
            "Preview this many seeds (--seed, --seed + 1, …) with fewer steps and finish the one whose fill agrees most with the others (their consensus composition). Costs about 1 + 0.4·N runs. Default: the model's (ldm-edit's own models: 8, blended; others: 1, off).",
            valueName: "n"))
        var candidates: Int?

        @Option(name: .customLong("preview-steps"), help: ArgumentHelp(
            "With --candidates: the steps of each preview (default: 40 % of --steps).", valueName: "n"))
        var previewSteps: Int?

        @Flag(name: .customLong("blend-candidates"), inversion: .prefixedNo, help: ArgumentHelp(
            "With candidates: give the finished fill the previews' mean's low frequencies (its colour and layout where the candidates disagree), keeping its own texture. Costs nothing more. Default: the model's (on for ldm-edit's own models)."))
        var blendCandidates: Bool?

        @Option(help: ArgumentHelp("Text prompt for a Stable Diffusion inpainting model (\"\" for none; at most 77 tokens with start and end). Models that read no text refuse it.", valueName: "text"))
        var prompt: String?

        @Option(name: .customLong("negative-prompt"), help: ArgumentHelp("What the fill should not look like (Stable Diffusion; used when --guidance is above 1).", valueName: "text"))
        var negativePrompt: String?

        @Option(help: ArgumentHelp("Classifier-free guidance scale for Stable Diffusion (default 7.5; 1 or less: the prompt alone, no negative).", valueName: "scale"))
        var guidance: Float?

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var tilingOptions: TilingOptions
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var runOptions: RunOptions
        @OptionGroup var globalOptions: GlobalOptions

        func validate() throws {
            try BatchPlan.validate(inputs: inputs, output: outputOptions.output)
            if let mask, !FileManager.default.fileExists(atPath: mask) { throw ValidationError("--mask \(mask): no such file.") }
            if mask != nil, maskDir != nil { throw ValidationError("Give --mask or --mask-dir, not both.") }
            if let maskDir, !BatchPlan.isDirectory(maskDir) { throw ValidationError("--mask-dir \(maskDir): no such folder.") }
            do {
                _ = try inpaintingRequest(defaults: nil)
                _ = try promptRequest()
            } catch { throw ValidationError(UserMessage.describe(error)) }
            if coarseGuidance != nil, holeLimit == nil { throw ValidationError("--coarse-guidance needs --hole-limit.") }
            // Without --candidates the model's default decides, known once it is loaded (`run`).
            if let candidates, let problem = candidateOptionsProblem(count: candidates) { throw ValidationError(problem) }
            if prompt == nil, let flag = negativePrompt != nil ? "--negative-prompt" : guidance != nil ? "--guidance" : nil {
                throw ValidationError("\(flag) needs --prompt.")
            }
        }

        /// The prompt part of the request (nil without --prompt).
        func promptRequest() throws(RequestError) -> PromptRequest? {
            guard let prompt else { return nil }
            return try PromptRequest(prompt: prompt, negativePrompt: negativePrompt, guidance: guidance ?? PromptRequest.defaultGuidance)
        }

        /// The inpainting part of the request; without --candidates or --[no-]blend-candidates the model's `defaults`
        /// (`Editor.defaultCandidates`; nil: one seed).
        func inpaintingRequest(defaults: Candidates?) throws(RequestError) -> InpaintingRequest {
            let chosen = InpaintingRequest.candidates(candidates, blend: blendCandidates, defaults: defaults)
            return try InpaintingRequest(maskInvert: maskInvert, maskDilate: maskDilate, maskResize: maskResize, strategy: strategy,
                                  cropMargin: cropMargin, resizeLimit: resizeLimit, holeLimit: holeLimit, coarseGuidance: coarseGuidance,
                                  candidates: chosen.count, previewSteps: previewSteps, blendCandidates: chosen.blend)
        }

        /// Why --preview-steps or --blend-candidates cannot apply to `count` candidates (given, or the model's
        /// default): they need two or more. nil when they can, or are not given.
        func candidateOptionsProblem(count: Int) -> String? {
            guard count < 2, let flag = previewSteps != nil ? "--preview-steps" : blendCandidates == true ? "--blend-candidates" : nil else { return nil }
            return "\(flag) needs --candidates 2 or more" + (candidates == nil ? " (this model previews one seed by default)." : ".")
        }

        var maskSource: MaskSource { mask.map { .file($0) } ?? maskDir.map { .folder($0) } ?? .besideImage }

        func run() throws {
            globalOptions.applyThreads()
            let reporter = Reporter()
            let editor = try reporter.orExit {
                try Editor(task: .inpaint, modelPath: try ModelLocator.require(modelOptions.model, for: .inpainting), useEMA: !modelOptions.noEMA,
                           halfWeights: modelOptions.halfWeights, guidePath: modelOptions.guideModel)
            }
            let defaults = editor.defaultCandidates
            if let problem = candidateOptionsProblem(count: InpaintingRequest.candidates(candidates, blend: nil, defaults: defaults).count) {
                reporter.error(problem)
                throw ExitCode(64)
            }
            if candidates == nil, let defaults, !globalOptions.quiet {
                reporter.status("previewing \(defaults.count) seeds\(defaults.blendsMean ? " and blending their mean" : ""), this model's default "
                                + "(--candidates 1: one sample, several times faster)")
            }
            let request = try reporter.orExit { () throws -> EditRequest in
                guard let model = editor.model else { throw RequestError.inconsistent(task: .inpaint, reason: "needs a model") }
                var request = EditRequest.inpaint(
                    model: model, sampling: try modelOptions.sampling(reporter, defaults: editor.defaultSampling, quiet: globalOptions.quiet),
                    tiling: try tilingOptions.request(), inpainting: try inpaintingRequest(defaults: defaults), output: try outputOptions.request(),
                    prompt: try promptRequest())
                request.guide = try modelOptions.guide(editor)
                return request
            }
            do {
                try editor.check(request)  // a prompt exactly when the model reads text, within 77 tokens
            } catch {
                reporter.error(UserMessage.describe(error))
                throw ExitCode(64)
            }
            var plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_inpainted", naming: outputOptions.naming)
            let masks = plan.pairMasks(maskSource)
            var runner = try BatchRunner(plan: plan, editor: editor, request: request, run: runOptions, output: outputOptions, global: globalOptions)
            runner.masks = masks
            let summary = runner.run()
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
