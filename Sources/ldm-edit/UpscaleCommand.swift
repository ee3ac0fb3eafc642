import ArgumentParser
import LDMImageIO

extension LDMEdit {
    /// `ldm-edit upscale`: 4x super-resolution.
    struct Upscale: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upscale images 4x.",
            discussion: """
                Inputs are image files or folders (their PNG, JPEG and TIFF files, not recursive). \
                Each output keeps the input's format unless -o names a file with another extension, \
                and keeps its bit depth and alpha (JPEG outputs are 8-bit without alpha).

                Examples:
                  ldm-edit upscale Samples/lowres/chelsea.png -o chelsea_x4.png
                  ldm-edit upscale Samples/lowres -o upscaled/ --method bicubic
                """)

        /// Classical resamplers available today.
        enum Method: String, ExpressibleByArgument, CaseIterable {
            case lanczos, bicubic

            var filter: ResamplingFilter {
                switch self {
                case .lanczos: .lanczos
                case .bicubic: .bicubic
                }
            }
        }

        static let factor = 4

        @Argument(help: ArgumentHelp("Image files or folders.", valueName: "input"))
        var inputs: [String]

        @Option(name: .long, help: "Resampling method.")
        var method: Method = .lanczos

        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var globalOptions: GlobalOptions

        func validate() throws {
            try BatchPlan.validate(inputs: inputs, output: outputOptions.output)
        }

        func run() throws {
            globalOptions.applyThreads()
            let plan = BatchPlan(inputs: inputs, output: outputOptions.output, defaultSuffix: "_x\(Self.factor)")
            let runner = BatchRunner(plan: plan, quiet: globalOptions.quiet, maxPixels: globalOptions.maxPixels,
                                     jpegQuality: outputOptions.quality)
            let method = method
            let summary = runner.run { job, raster in
                let (width, height) = (raster.width * Self.factor, raster.height * Self.factor)
                try runner.checkPixelCeiling(width: width, height: height, input: job.input)
                return Resampler.resize(raster, width: width, height: height, filter: method.filter)
            }
            if summary.failed > 0 { throw ExitCode(1) }
        }
    }
}
