import ArgumentParser
import Foundation
import LDMImageIO
import LDMModels
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

                Example:
                  ldm-edit inpaint Samples/astronaut.png --mask Masks/astronaut_mask.png --model last.ckpt -o out.png
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
        var cropMargin: Int = 128

        @Option(name: .customLong("resize-limit"), help: ArgumentHelp("Long side the image is scaled to for --strategy resize (default 1024).", valueName: "px"))
        var resizeLimit: Int = 1024

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
            guard maskDilate >= 0 else { throw ValidationError("--mask-dilate must be 0 or more, got \(maskDilate).") }
            guard cropMargin >= 0 else { throw ValidationError("--crop-margin must be 0 or more, got \(cropMargin).") }
            guard resizeLimit >= 64 else { throw ValidationError("--resize-limit must be at least 64, got \(resizeLimit).") }
        }

        func run() throws {
            globalOptions.applyThreads()
            let reporter = Reporter()
            let (weights, model) = try modelOptions.load(for: .inpainting, reporter: reporter)
            let pipeline = try InpaintingPipeline(weights: weights, model: model)
            let settings = modelOptions.settings(reporter)
            var provenance = try modelOptions.provenance(task: "inpaint", modelPath: modelOptions.resolvedModel(for: .inpainting) ?? "",
                                                         settings: settings, reporter: reporter)
            if maskInvert { provenance.options["mask_invert"] = "true" }
            if maskDilate > 0 { provenance.options["mask_dilate"] = String(maskDilate) }
            if maskResize { provenance.options["mask_resize"] = "nearest" }
            provenance.tiling = tilingOptions.keyDescription
            provenance.options["strategy"] = strategy.rawValue
            if strategy != .full { provenance.options["crop_margin"] = String(cropMargin) }
            if strategy == .resize { provenance.options["resize_limit"] = String(resizeLimit) }
            let planner = try MemoryPlanner(model: model, weightBytes: weights.parameterCount * 4)
            let large = LargeImageOptions(strategy: strategy, cropMargin: cropMargin, resizeLimit: resizeLimit)
            let (requested, budget) = (tilingOptions.requested, tilingOptions.budget)
            var plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_inpainted", naming: outputOptions.naming)
            // Pair every image with its mask before any work; unmatched images become reported failures.
            var masks: [String: String] = [:]
            if mask == nil, maskDir == nil { plan.exclude { Self.isMaskName($0) } }
            for job in plan.jobs {
                if let found = Self.mask(for: job.input, single: mask, folder: maskDir) {
                    masks[job.input] = found
                } else {
                    plan.reject(job.input, message: "\(job.input): no mask found (looked for \(Self.expectedMaskDescription(for: job.input, folder: maskDir)))")
                }
            }
            var runner = try BatchRunner(plan: plan, provenance: provenance, run: runOptions, output: outputOptions, global: globalOptions)
            runner.maskFor = { masks[$0.input] }
            let (resize, invert, dilate, maxPixels) = (maskResize, maskInvert, maskDilate, globalOptions.maxPixels)
            let summary = runner.run { job, raster, callbacks, notes in
                guard let maskPath = masks[job.input] else { throw BatchError.noMask(input: job.input) }
                let maskRaster = try ImageFile.read(maskPath, options: ImageReadOptions(maxPixels: maxPixels))
                let sameSize = maskRaster.width == raster.width && maskRaster.height == raster.height
                guard sameSize || resize else {
                    throw BatchError.maskSizeMismatch(input: job.input, mask: maskPath, maskWidth: maskRaster.width, maskHeight: maskRaster.height,
                                                      imageWidth: raster.width, imageHeight: raster.height)
                }
                let raw = InpaintingImages.mask(maskRaster, resizeTo: sameSize ? nil : (raster.width, raster.height))
                for warning in InpaintingImages.warnings(invert ? raw.map { 1 - $0 } : raw) { reporter.warning("\(maskPath): \(UserMessage.describe(warning))") }
                let values = InpaintingImages.adjust(raw, width: raster.width, height: raster.height, invert: invert, dilate: dilate)
                // Each model run (whole image, crop window or resized image) gets the tiles that fit the ceiling.
                let multiple = pipeline.sizeMultiple, f = model.firstStage.downsamplingFactor
                var peak = 0
                var reduced: [String] = []
                let (result, plan) = try pipeline.run(PlanarImage(raster), mask: values, settings: settings, options: large,
                                                      callbacks: callbacks) { width, height in
                    let (lh, lw) = ((height + multiple - 1) / multiple * multiple / f, (width + multiple - 1) / multiple * multiple / f)
                    let whole = width * height == raster.width * raster.height
                    let (tiling, estimate) = try planner.plan(latentHeight: lh, latentWidth: lw, preferred: requested, budget: budget,
                                                              encodes: true, otherBytes: whole ? 0 : 40 * raster.width * raster.height)
                    peak = max(peak, estimate.total)
                    if tiling != requested { reduced.append(tiling.description) }
                    return tiling
                }
                (notes.plan, notes.estimatedPeakBytes) = (plan + (reduced.isEmpty ? "" : "; tiles reduced to " + reduced.joined(separator: ", ")), peak)
                if !reduced.isEmpty {
                    reporter.warning("\(job.input): tiles reduced to \(reduced[0]) to stay under \(budget >> 20) MiB; the result differs from the default plan's")
                }
                return InpaintingImages.composite(raster, result: result, mask: values)
            }
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}

extension LDMEdit.Inpaint {
    /// `X_mask.<ext>`: a mask by the CompVis convention.
    static func isMaskName(_ path: String) -> Bool {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension.hasSuffix("_mask")
    }

    static let maskExtensions = ["png", "jpg", "jpeg", "tif", "tiff", "PNG", "JPG"]

    /// The mask for an image: the single --mask, <stem>[_mask].<ext> in --mask-dir, or X_mask.<ext> beside X.
    static func mask(for image: String, single: String?, folder: String?) -> String? {
        if let single { return single }
        let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
        let dir = folder ?? (image as NSString).deletingLastPathComponent
        let names = folder == nil ? [stem + "_mask"] : [stem, stem + "_mask"]
        for name in names {
            for ext in maskExtensions {
                let candidate = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(name + "." + ext)
                if FileManager.default.fileExists(atPath: candidate), candidate != image { return candidate }
            }
        }
        return nil
    }

    static func expectedMaskDescription(for image: String, folder: String?) -> String {
        let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
        if let folder { return "\(folder)/\(stem).png or \(stem)_mask.png" }
        return "\(stem)_mask.png beside it; or pass --mask or --mask-dir"
    }
}
