import Foundation
import LDMImageIO
import LDMParallel
import LDMPipelines

/// Errors of the batch layer itself (codec errors are `ImageIOError`).
enum BatchError: Error, CustomStringConvertible {
    case outputTooLarge(input: String, width: Int, height: Int, limit: Int)
    case cannotCreateFolder(path: String, reason: String)
    case cannotHash(path: String, reason: String)
    case journal(path: String, reason: String)
    case noMask(input: String)
    case maskSizeMismatch(input: String, mask: String, maskWidth: Int, maskHeight: Int, imageWidth: Int, imageHeight: Int)

    var description: String {
        switch self {
        case .outputTooLarge(let input, let width, let height, let limit):
            "\(input): the result would be \(width)x\(height) (\(width * height) pixels), above the limit of \(limit) pixels; raise it with --max-pixels"
        case .cannotCreateFolder(let path, let reason): "\(path): cannot create output folder: \(reason)"
        case .cannotHash(let path, let reason): "\(path): cannot read it to compute its SHA-256: \(reason)"
        case .journal(let path, let reason): "\(path): cannot record the finished output in the resume journal: \(reason)"
        case .noMask(let input): "\(input): no mask"
        case .maskSizeMismatch(let input, let mask, let mw, let mh, let iw, let ih):
            "\(input): the mask \(mask) is \(mw)x\(mh), the image \(iw)x\(ih); pass --mask-resize to resize it"
        }
    }
}

/// Runs one edit over every job of a plan: read → transform → write, one job at a time.
/// A failing job is reported and the batch goes on; nothing partial is ever left under an output
/// name; outputs a previous run finished with the same settings are skipped (resume); Ctrl-C stops
/// at the next sampling step or image.
struct BatchRunner {
    struct Summary {
        var done = 0
        var skipped = 0
        var failed = 0
        /// The signal that stopped the run early.
        var interruptedBy: Int32?

        /// 0 all done, 1 some failed, 128 + signal when interrupted.
        var exitStatus: Int32 {
            if let interruptedBy { return Interruption.exitStatus(for: interruptedBy) }
            return failed > 0 ? 1 : 0
        }
    }

    let plan: BatchPlan
    /// Everything but the per-input fields; the runner fills input, hashes, key and date.
    var provenance: Provenance
    /// The mask that goes with an input (inpainting), hashed into the resume key.
    var maskFor: (BatchPlan.Job) -> String? = { _ in nil }
    let maxPixels: Int
    let jpegQuality: Int
    /// 8 or 16 to convert every output; nil keeps the result's depth.
    var bitDepth: Int?
    var failFast = false
    var overwrite = false
    var embedMetadata = true
    var reportPath: String?
    var shard: Shard?
    let progress: RunProgress
    let reporter = Reporter()

    /// Refuses results larger than the pixel ceiling before computing them.
    static func checkPixelCeiling(width: Int, height: Int, limit: Int, input: String) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > limit {
            throw BatchError.outputTooLarge(input: input, width: width, height: height, limit: limit)
        }
    }

    /// What a transform reports about one image besides its result.
    final class Notes {
        var plan: String?
        var estimatedPeakBytes: Int?
    }

    /// mkdir -p with the system's reason for a failure ("Not a directory" when a file is in the
    /// way, "Read-only file system", ...), naming the folder that could not be made.
    static func makeFolder(_ path: String) throws(BatchError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    throw .cannotCreateFolder(path: path, reason: "\(path.hasPrefix("/") ? prefix : String(prefix.dropFirst(2))) is a file, not a folder")
                }
                continue
            }
            if mkdir(prefix, 0o777) != 0, errno != EEXIST {
                throw .cannotCreateFolder(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }

    typealias Transform = (_ job: BatchPlan.Job, _ image: RasterImage, _ callbacks: PipelineCallbacks, _ notes: Notes) throws -> RasterImage

    func run(_ transform: Transform) -> Summary {
        Interruption.install()
        let started = Date()
        var report = RunReport(task: provenance.task, started: Provenance.timestamp(started), threads: Parallel.threads,
                               shard: shard?.description)
        report.peakRSSBytes = System.peakResidentBytes
        var summary = Summary()
        let progress = self.progress
        progress.start(task: provenance.task, images: plan.jobs.count)
        func finish(_ number: Int, _ record: ImageRecord, detail: String = "") {
            report.add(record)
            progress.imageFinished(number, record, detail: detail)
        }
        for problem in plan.problems {
            reporter.error(problem.message)
            finish(0, ImageRecord(input: problem.input, status: .failed, error: problem.message))
        }
        var stop = failFast && !plan.problems.isEmpty
        if stop { reporter.status("stopped before any work: --fail-fast and \(plan.problems.count) input(s) cannot be processed") }
        if !stop, let folder = plan.outputFolder {
            do {
                try Self.makeFolder(folder)
            } catch {
                let message = error.description
                reporter.error(message)
                for job in plan.jobs { finish(0, ImageRecord(input: job.input, output: job.output, status: .failed, error: message)) }
                stop = true
            }
        }
        let journal = embedMetadata ? nil : ResumeJournal()
        let callbacks = PipelineCallbacks(progress: { step, steps in progress.step(step, of: steps) },
                                          isCancelled: { Interruption.requestedSignal != nil })
        for (i, job) in plan.jobs.enumerated() where !stop {
            if let signal = Interruption.requestedSignal {
                summary.interruptedBy = signal
                break
            }
            let number = i + 1
            progress.imageStarted(number, input: job.input)
            System.resetPeakResident()
            let clock = Date()
            var record = ImageRecord(input: job.input, output: job.output, status: .done)
            var detail = ""
            do {
                var stamp = try provenance(for: job)
                if !overwrite, try isComplete(job.output, key: stamp.key, journal: journal) {
                    record.status = .skipped
                } else {
                    // --recursive mirrors sub-folders: make the output's folder (only once work starts).
                    let parent = (job.output as NSString).deletingLastPathComponent
                    if !parent.isEmpty { try Self.makeFolder(parent) }
                    let input = try ImageFile.read(job.input, options: ImageReadOptions(maxPixels: maxPixels))
                    let notes = Notes()
                    defer { (record.plan, record.estimatedPeakBytes) = (notes.plan, notes.estimatedPeakBytes) }
                    var result = try transform(job, input, callbacks, notes)
                    stamp.plan = notes.plan
                    stamp.created = Provenance.timestamp()
                    result.metadata = ImageMetadata(iccProfile: input.metadata.iccProfile, text: embedMetadata ? stamp.json() : nil)
                    try write(result, to: job.output)
                    try journal?.record(job.output, key: stamp.key)
                    detail = "  \(input.width)x\(input.height) → \(result.width)x\(result.height)"
                }
            } catch PipelineError.cancelled {
                record.status = .interrupted
                record.error = "interrupted"
                summary.interruptedBy = Interruption.requestedSignal ?? SIGINT
            } catch {
                // Every message names the file (model and pipeline errors do not know it).
                let described = UserMessage.describe(error)
                let message = described.contains(job.input) ? described : "\(job.input): \(described)"
                record.status = .failed
                record.error = message
                reporter.error(message)
            }
            record.seconds = Date().timeIntervalSince(clock)
            record.peakRSSBytes = System.peakResidentBytes
            finish(number, record, detail: detail)
            if summary.interruptedBy != nil { break }
            if record.status == .failed, failFast {
                reporter.status("stopped after the first failure (--fail-fast); \(plan.jobs.count - number) input(s) not processed")
                break
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        report.interrupted = summary.interruptedBy != nil
        (summary.done, summary.skipped, summary.failed) = (report.done, report.skipped, report.failed)
        progress.summary(report)
        if let signal = summary.interruptedBy {
            reporter.status("interrupted (signal \(signal)): \(report.done) done, \(plan.jobs.count - report.done - report.skipped - report.failed) not finished; rerun the same command to resume")
        } else if summary.failed > 0 || (progress.mode != .none && progress.mode != .json && plan.jobs.count > 1) {
            reporter.status("\(summary.done) done, \(summary.skipped) skipped, \(summary.failed) failed")
        }
        if let reportPath {
            do { try report.write(to: reportPath) } catch { reporter.error("--report \(reportPath): \(error)") }
        }
        return summary
    }

    /// The provenance of `job`'s output: the template plus the input's (and mask's) hashes and the key.
    private func provenance(for job: BatchPlan.Job) throws -> Provenance {
        var stamp = provenance
        stamp.input = (job.input as NSString).lastPathComponent
        if ImageFormat(pathExtension: (job.output as NSString).pathExtension) == .jpeg {
            stamp.options["jpeg_quality"] = String(jpegQuality)
        }
        stamp.inputSHA256 = try Provenance.sha256(ofFile: job.input)
        if let mask = maskFor(job) {
            stamp.mask = (mask as NSString).lastPathComponent
            stamp.maskSHA256 = try Provenance.sha256(ofFile: mask)
        }
        stamp.key = stamp.computedKey()
        return stamp
    }

    /// Whether `path` already holds the result for `key` (resume).
    private func isComplete(_ path: String, key: String, journal: ResumeJournal?) throws -> Bool {
        if let journal { return journal.isComplete(path, key: key) }
        guard FileManager.default.fileExists(atPath: path),
              let header = try? ImageFile.readHeader(path, options: ImageReadOptions(maxPixels: Int.max)) else { return false }
        return Provenance.parse(header.metadata.text)?.key == key
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
