import Foundation
import LDMImageIO

/// Errors of the batch layer itself (codec errors are `ImageIOError`).
enum BatchError: Error, CustomStringConvertible {
    case outputTooLarge(input: String, width: Int, height: Int, limit: Int)
    case cannotCreateFolder(path: String, reason: String)

    var description: String {
        switch self {
        case .outputTooLarge(let input, let width, let height, let limit):
            "\(input): the result would be \(width)x\(height) (\(width * height) pixels), above the limit of \(limit) pixels; raise it with --max-pixels"
        case .cannotCreateFolder(let path, let reason): "\(path): cannot create output folder: \(reason)"
        }
    }
}

/// Runs one edit over every job of a plan: read → transform → write, one job at a time.
/// A failing job is reported and the batch goes on; nothing partial is ever left under an output name.
struct BatchRunner {
    struct Summary {
        var done = 0
        var failed = 0
    }

    let plan: BatchPlan
    let quiet: Bool
    let maxPixels: Int
    let jpegQuality: Int
    /// 8 or 16 to convert every output; nil keeps the result's depth.
    var bitDepth: Int? = nil
    /// Stop at the first failing input.
    var failFast = false
    let reporter = Reporter()

    /// Refuses results larger than the pixel ceiling before computing them.
    static func checkPixelCeiling(width: Int, height: Int, limit: Int, input: String) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > limit {
            throw BatchError.outputTooLarge(input: input, width: width, height: height, limit: limit)
        }
    }

    func run(_ transform: (_ job: BatchPlan.Job, _ image: RasterImage) throws -> RasterImage) -> Summary {
        var summary = Summary()
        for problem in plan.problems {
            reporter.error(problem.message)
            summary.failed += 1
        }
        if let folder = plan.outputFolder {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                reporter.error(BatchError.cannotCreateFolder(path: folder, reason: error.localizedDescription).description)
                summary.failed += plan.jobs.count
                return summary
            }
        }
        let total = plan.jobs.count
        if failFast, summary.failed > 0 {
            reporter.status("stopped before any work: --fail-fast and \(summary.failed) input(s) cannot be processed")
            return summary
        }
        for (i, job) in plan.jobs.enumerated() {
            let started = Date()
            do {
                // --recursive mirrors sub-folders: make the output's folder (only once work starts).
                let parent = (job.output as NSString).deletingLastPathComponent
                if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
                let input = try ImageFile.read(job.input, options: ImageReadOptions(maxPixels: maxPixels))
                let result = try transform(job, input)
                try write(result, to: job.output)
                summary.done += 1
                if !quiet {
                    let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
                    reporter.status("[\(i + 1)/\(total)] \(job.input) → \(job.output)  \(input.width)x\(input.height) → \(result.width)x\(result.height)  \(seconds) s")
                }
            } catch {
                summary.failed += 1
                reporter.error("\(error)")
                if failFast {
                    reporter.status("stopped after the first failure (--fail-fast); \(total - i - 1) input(s) not processed")
                    break
                }
            }
        }
        if summary.failed > 0 || (!quiet && total > 1) {
            reporter.status("\(summary.done) done, \(summary.failed) failed")
        }
        return summary
    }

    /// Writes in the format the output name asks for, adapting what the format cannot hold.
    private func write(_ image: RasterImage, to path: String) throws {
        var image = image
        if let bitDepth { image = image.converted(toBitDepth: bitDepth) }
        let format = ImageFormat(pathExtension: (path as NSString).pathExtension) ?? .png
        if format == .jpeg {
            if image.hasAlpha {
                reporter.warning("\(path): JPEG has no alpha channel; writing without it (use .png or .tif to keep it)")
                image = image.droppingAlpha()
            }
            if image.bitDepth == 16 {
                reporter.warning("\(path): JPEG is 8-bit; writing 16-bit samples as 8-bit")
                image = image.converted(toBitDepth: 8)
            }
        }
        try ImageFile.write(image, to: path, options: ImageWriteOptions(format: format, jpegQuality: jpegQuality))
    }
}
