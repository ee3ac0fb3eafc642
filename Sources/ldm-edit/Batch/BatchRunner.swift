import Foundation
import LDMEditing
import LDMImageIO
import LDMParallel

/// Runs one edit request over every job of a plan: read → `Editor.run` → write, one job at a time.
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
    let editor: Editor
    /// The edit of every job (its JPEG quality applies to JPEG outputs only: `forFile`).
    let request: EditRequest
    /// The mask that goes with each input (inpainting), hashed into the resume key.
    var masks: [String: String] = [:]
    let maxPixels: Int
    var failFast = false
    var overwrite = false
    var embedMetadata = true
    var reportPath: String?
    var shard: Shard?
    let progress: RunProgress
    let reporter = Reporter()

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

    func run() -> Summary {
        Interruption.install()
        let started = Date()
        var report = RunReport(task: request.task.rawValue, started: Provenance.timestamp(started), threads: Parallel.threads,
                               shard: shard?.description)
        report.peakRSSBytes = System.peakResidentBytes
        var summary = Summary()
        let progress = self.progress
        progress.start(task: request.task.rawValue, images: plan.jobs.count)
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
        let cancellation = CancellationToken { Interruption.requestedSignal != nil }
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
            let mask = masks[job.input]
            do {
                let request = self.request.forFile(isJPEG: Self.format(of: job.output) == .jpeg)
                let (inputSHA256, maskSHA256) = (try ContentHash.sha256(ofFile: job.input), try mask.map(ContentHash.sha256(ofFile:)))
                let key = try request.resumeKey(inputSHA256: inputSHA256, maskSHA256: maskSHA256)
                if !overwrite, isComplete(job.output, key: key, journal: journal) {
                    record.status = .skipped
                } else {
                    // --recursive mirrors sub-folders: make the output's folder (only once work starts).
                    let parent = (job.output as NSString).deletingLastPathComponent
                    if !parent.isEmpty { try Self.makeFolder(parent) }
                    let input = try ImageFile.read(job.input, options: ImageReadOptions(maxPixels: maxPixels))
                    let maskImage = try mask.map { try ImageFile.read($0, options: ImageReadOptions(maxPixels: maxPixels)) }
                    let result = try editor.run(request, image: input, mask: maskImage, callbacks: callbacks(for: job, mask: mask, cancellation))
                    (record.plan, record.estimatedPeakBytes) = (result.plan, result.estimatedPeakBytes)
                    let provenance = Provenance(version: LDMEdit.version, settings: request, plan: result.plan, input: job.input,
                                                inputSHA256: inputSHA256, mask: mask, maskSHA256: maskSHA256, key: key)
                    var image = result.image
                    image.metadata = ImageMetadata(iccProfile: input.metadata.iccProfile, text: embedMetadata ? try provenance.json() : nil)
                    try write(image, to: job.output, request: request.output)
                    try journal?.record(job.output, key: key)
                    detail = "  \(input.width)x\(input.height) → \(image.width)x\(image.height)"
                }
            } catch EditError.cancelled {
                record.status = .interrupted
                record.error = "interrupted"
                summary.interruptedBy = Interruption.requestedSignal ?? SIGINT
            } catch {
                // Every message names the file (model and pipeline errors do not know it).
                let described = UserMessage.describe(error, mask: mask)
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

    /// Progress to the display, warnings with the file they concern, Ctrl-C as cancellation.
    private func callbacks(for job: BatchPlan.Job, mask: String?, _ cancellation: CancellationToken) -> EditCallbacks {
        let (progress, reporter) = (self.progress, self.reporter)
        return EditCallbacks(progress: { step, steps in progress.step(step, of: steps) },
                             warning: { warning in
                                 let file = if case .mask = warning { mask ?? job.input } else { job.input }
                                 reporter.warning("\(file): \(UserMessage.describe(warning))")
                             },
                             cancellation: cancellation)
    }

    /// Whether `path` already holds the result for `key` (resume).
    private func isComplete(_ path: String, key: String, journal: ResumeJournal?) -> Bool {
        if let journal { return journal.isComplete(path, key: key) }
        guard FileManager.default.fileExists(atPath: path),
              let header = try? ImageFile.readHeader(path, options: ImageReadOptions(maxPixels: Int.max)) else { return false }
        return Provenance.parse(header.metadata.text)?.key == key
    }

    /// Writes in the format the output name asks for, adapting what the format cannot hold.
    private func write(_ image: RasterImage, to path: String, request: OutputRequest) throws {
        var image = image
        if let bitDepth = request.bitDepth { image = image.converted(toBitDepth: bitDepth) }
        let format = Self.format(of: path)
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
        try ImageFile.write(image, to: path, options: ImageWriteOptions(format: format, jpegQuality: request.jpegQuality ?? OutputOptions.defaultQuality))
    }

    /// The format an output name asks for (PNG for unknown extensions).
    static func format(of path: String) -> ImageFormat {
        ImageFormat(pathExtension: (path as NSString).pathExtension) ?? .png
    }
}
