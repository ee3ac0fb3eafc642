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
                --mask-resize is given.

                Example:
                  ldm-edit inpaint Samples/astronaut.png --mask Masks/astronaut_mask.png --model last.ckpt -o out.png
                """)

        @Argument(help: ArgumentHelp("Image files.", valueName: "image"))
        var inputs: [String]

        @Option(help: ArgumentHelp("Mask image (white = repaint), used for every input.", valueName: "file"))
        var mask: String

        @Flag(name: .customLong("mask-resize"), help: "Resize a mask of another size to the image (nearest neighbour).")
        var maskResize = false

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var globalOptions: GlobalOptions

        func validate() throws {
            try BatchPlan.validate(inputs: inputs, output: outputOptions.output)
            guard FileManager.default.fileExists(atPath: mask) else { throw ValidationError("--mask \(mask): no such file.") }
        }

        func run() throws {
            globalOptions.applyThreads()
            let reporter = Reporter()
            let maskRaster: RasterImage
            do {
                maskRaster = try ImageFile.read(mask, options: ImageReadOptions(maxPixels: globalOptions.maxPixels))
            } catch {
                reporter.error("\(error)")
                throw ExitCode(1)
            }
            let (weights, model) = try modelOptions.load(for: .inpainting, reporter: reporter)
            let pipeline = try InpaintingPipeline(weights: weights, model: model)
            let settings = modelOptions.settings(reporter)
            let (maskPath, resize) = (mask, maskResize)
            let plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_inpainted", naming: outputOptions.naming)
            var runner = BatchRunner(plan: plan, quiet: globalOptions.quiet, maxPixels: globalOptions.maxPixels,
                                     jpegQuality: outputOptions.quality)
            runner.bitDepth = outputOptions.bitDepth.value
            runner.failFast = outputOptions.failFast
            let summary = runner.run { job, raster in
                let sameSize = maskRaster.width == raster.width && maskRaster.height == raster.height
                guard sameSize || resize else {
                    throw PipelineError.badInput("\(job.input): the mask \(maskPath) is \(maskRaster.width)x\(maskRaster.height), the image \(raster.width)x\(raster.height); pass --mask-resize to resize it")
                }
                let values = InpaintingImages.mask(maskRaster, resizeTo: sameSize ? nil : (raster.width, raster.height))
                let result = try pipeline.run(PlanarImage(raster), mask: values, settings: settings)
                return InpaintingImages.composite(raster, result: result, mask: values)
            }
            if summary.failed > 0 { throw ExitCode(1) }
        }
    }
}
