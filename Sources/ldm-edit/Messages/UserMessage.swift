import Foundation
import LDMEditing
import LDMModels
import LDMPipelines

/// The command line's words for what the libraries report: their errors and warnings carry facts
/// (sizes, tasks, bytes); here they get the flag or command that helps ("--max-memory", "use
/// `ldm-edit upscale`"). Anything without a better wording keeps the library's description.
enum UserMessage {
    /// - mask: the mask file the failing image was paired with, when there is one.
    static func describe(_ error: any Error, mask: String? = nil) -> String {
        switch error {
        case let error as PipelineError: describe(error)
        case let error as CheckpointError: describe(error)
        case let error as EditError: describe(error)
        case let error as MaskError: describe(error, mask: mask)
        case let error as RequestError: describe(error)
        default: "\(error)"
        }
    }

    static func describe(_ error: PipelineError) -> String {
        switch error {
        case .wrongTask(let model, _): "\(error) (use `ldm-edit \(model.command)`)"
        case .memory(let needed, let budget, let estimate):
            "needs about \(needed >> 20) MiB even with the smallest tiles, above the \(budget >> 20) MiB allowed (--max-memory): \(estimate)"
        case .imageTooSmall: "\(error); upscale it classically first (`ldm-edit upscale --method lanczos`)"
        default: "\(error)"
        }
    }

    static func describe(_ error: CheckpointError) -> String {
        switch error {
        case .wrongTask(_, let found, _): "\(error); use `ldm-edit \(found.command)`"
        case .auditFailed(let path, _): "\(error)\nhint: `ldm-edit inspect \(path)` shows what the file holds"
        default: "\(error)"
        }
    }

    static func describe(_ error: EditError) -> String {
        switch error {
        case .noModel(let task, let fileName, let searched, let unfinished):
            "no \(task.rawValue) model: pass --model, or put \(fileName) in one of: \(searched.joined(separator: ", ")) (LDM_EDIT_MODELS sets the first)"
                + (unfinished.map { "\nhint: one still in training, short of its quality targets (docs/models.md), is at \($0): try it with --model \($0)" } ?? "")
        case .resultTooLarge: "\(error); raise it with --max-pixels"
        default: "\(error)"
        }
    }

    static func describe(_ error: MaskError, mask: String?) -> String {
        switch error {
        case .notFound(let image, .besideImage):
            "\(image): no mask found (looked for \(((image as NSString).lastPathComponent as NSString).deletingPathExtension)_mask.png beside it; or pass --mask or --mask-dir)"
        case .notFound(_, .file(let path)): "--mask \(path): no such file"
        case .notFound(_, .folder): "\(error)"
        case .sizeMismatch(let mw, let mh, let iw, let ih):
            "the mask \(mask ?? "") is \(mw)x\(mh), the image \(iw)x\(ih); pass --mask-resize to resize it"
        }
    }

    /// Validation messages (exit 64), in the flags' terms.
    static func describe(_ error: RequestError) -> String {
        switch error {
        case .steps(let n): "--steps must be 1-1000, got \(n)."
        case .eta(let eta): "--eta must be between 0 and 1, got \(eta)."
        case .tile(let tile): "--tile must be at least \(TilingRequest.minimumTile), got \(tile)."
        case .tileOverlap(let overlap, _): "--tile-overlap must be 0 or more and smaller than the tile, got \(overlap)."
        case .maxMemory(let bytes): "--max-memory must be positive, got \(bytes) bytes."
        case .maskDilate(let px): "--mask-dilate must be 0 or more, got \(px)."
        case .cropMargin(let px): "--crop-margin must be 0 or more, got \(px)."
        case .resizeLimit(let px): "--resize-limit must be at least \(InpaintingRequest.minimumResizeLimit), got \(px)."
        case .holeLimit(let px): "--hole-limit must be at least \(CoarseToFine.minimumHoleLimit), got \(px)."
        case .coarseGuidance(let s): "--coarse-guidance must be above 0 and at most 1, got \(s)."
        case .candidates(let n): "--candidates must be 1-\(Candidates.maximum), got \(n)."
        case .previewSteps(let n): "--preview-steps must be 1-\(SamplingRequest.maximumSteps), got \(n)."
        case .coarseToFineNotAccepted: "--hole-limit applies to the LDM inpainting models only; this model reads text."
        case .bitDepth(let depth): "--bit-depth must be 8 or 16, got \(depth)."
        case .jpegQuality(let quality): "--quality must be 1-100, got \(quality)."
        case .guidance(let scale): "--guidance must be 0 or more, got \(scale)."
        case .guideWeight(let w): "--guide-weight must be 0-\(Int(GuideRequest.maximumWeight)), got \(w)."
        case .promptTooLong(let negative, let count, let limit):
            "\(negative ? "--negative-prompt" : "--prompt") is \(count) tokens long with its start and end tokens; the text encoder reads at most \(limit), so it is \(count - limit) too many. Shorten it."
        case .promptRequired: "this is a Stable Diffusion model, conditioned on text: pass --prompt (--prompt \"\" for none)."
        case .promptNotAccepted: "--prompt, --negative-prompt and --guidance apply to Stable Diffusion models only; this model reads no text."
        case .noiseLevel(let level, let maximum): "--noise-level must be 0-\(maximum) for this model, got \(level)."
        case .noiseLevelNotAccepted: "--noise-level applies to the Stable Diffusion x4 upscaler only; this model does not noise its input."
        case .inconsistent, .unreadable: "\(error)."
        }
    }

    static func describe(_ warning: EditWarning) -> String {
        switch warning {
        case .mask(let warning): describe(warning)
        case .tilesReduced: "\(warning)"
        case .blendedInpainting: "\(warning) (an inpainting checkpoint, e.g. sd-v1-5-inpainting, has 9 U-Net input channels)"
        }
    }

    static func describe(_ warning: MaskWarning) -> String {
        switch warning {
        case .mostlyWhite(let fraction): "the mask covers \(Int(fraction * 100)) % of the image (white = repaint; --mask-invert flips it)"
        default: "\(warning)"
        }
    }
}
