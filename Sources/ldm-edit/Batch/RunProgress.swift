import Foundation

/// Tells the user (or a program) how a batch is going, in the style `--progress` chose:
/// - line: one line on standard error updated in place (image i/N, step s/S, seconds per step, ETA),
///   plus a permanent line per finished image;
/// - log: only the permanent line per image;
/// - json: JSON Lines events on standard output — start, step, image_done (status done or
///   skipped), image_failed, summary;
/// - none: nothing but warnings and errors.
final class RunProgress: @unchecked Sendable {
    let mode: RunOptions.ProgressMode
    private let console = Console.shared
    private let lock = NSLock()
    private var total = 0
    private var index = 0
    private var input = ""
    private var stepStart = Date()
    private var lastDraw = Date.distantPast
    private var stepSeconds = 0.0
    private var timedSteps = 0
    private var finishedSeconds: [Double] = []

    init(mode: RunOptions.ProgressMode) { self.mode = mode }

    private struct Event: Encodable {
        var event: String
        var task: String?
        var version: String?
        var images: Int?
        var image: Int?
        var input: String?
        var output: String?
        var status: String?
        var step: Int?
        var steps: Int?
        var secondsPerStep: Double?
        var etaSeconds: Double?
        var seconds: Double?
        var peakRSSBytes: Int?
        var error: String?
        var done: Int?
        var skipped: Int?
        var failed: Int?
        var interrupted: Bool?

        enum CodingKeys: String, CodingKey {
            case event, task, version, images, image, input, output, status, step, steps, seconds, error, done, skipped,
                 failed, interrupted
            case secondsPerStep = "seconds_per_step", etaSeconds = "eta_seconds", peakRSSBytes = "peak_rss_bytes"
        }
    }

    private func emit(_ event: Event) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(event) else { return }
        console.event(String(decoding: data, as: UTF8.self))
    }

    func start(task: String, images: Int) {
        lock.withLock { total = images }
        if mode == .json { emit(Event(event: "start", task: task, version: LDMEdit.version, images: images)) }
    }

    func imageStarted(_ number: Int, input: String) {
        lock.withLock {
            index = number
            // The live line has one terminal row: the file name, not its folders.
            self.input = (input as NSString).lastPathComponent
            stepStart = Date()
            stepSeconds = 0
            timedSteps = 0
        }
        if mode == .line { console.showLive("[\(number)/\(total)] \((input as NSString).lastPathComponent)") }
    }

    /// Called by the sampler after each step (from the thread running the pipeline).
    func step(_ step: Int, of steps: Int) {
        let now = Date()
        let (spp, eta, number, name, draw): (Double, Double, Int, String, Bool) = lock.withLock {
            let elapsed = now.timeIntervalSince(stepStart)
            stepStart = now
            // The first step carries one-off costs (encoding the conditioning), so it stays out of the average.
            if step > 1 {
                stepSeconds += elapsed
                timedSteps += 1
            }
            let average = timedSteps > 0 ? stepSeconds / Double(timedSteps) : elapsed
            let perImage = finishedSeconds.isEmpty ? Double(steps) * average : finishedSeconds.reduce(0, +) / Double(finishedSeconds.count)
            let eta = Double(steps - step) * average + Double(total - index) * perImage
            let draw = now.timeIntervalSince(lastDraw) > 0.1 || step == steps
            if draw { lastDraw = now }
            return (average, eta, index, input, draw)
        }
        switch mode {
        case .json:
            emit(Event(event: "step", image: number, input: name, step: step, steps: steps, secondsPerStep: rounded(spp),
                       etaSeconds: rounded(eta)))
        case .line where draw:
            console.showLive("[\(number)/\(total)] \(name)  step \(step)/\(steps)  \(String(format: "%.2f", spp)) s/step  ETA \(Self.duration(eta))")
        default: break
        }
    }

    /// An input finished (any status).
    func imageFinished(_ number: Int, _ record: ImageRecord, detail: String = "") {
        if record.status == .done { lock.withLock { finishedSeconds.append(record.seconds ?? 0) } }
        switch mode {
        case .json:
            let failed = record.status == .failed || record.status == .interrupted
            emit(Event(event: failed ? "image_failed" : "image_done", image: number, input: record.input, output: record.output,
                       status: record.status.rawValue, seconds: record.seconds.map(rounded), peakRSSBytes: record.peakRSSBytes,
                       error: record.error))
        case .line, .log:
            if mode == .line { console.endLive() }  // the next image draws a fresh one
            let seconds = record.seconds.map { String(format: "  %.2f s", $0) } ?? ""
            switch record.status {
            case .done: console.message("[\(number)/\(total)] \(record.input) → \(record.output ?? "")\(detail)\(seconds)")
            case .skipped: console.message("[\(number)/\(total)] \(record.input): \(record.output ?? "") is up to date, skipped (--overwrite redoes it)")
            case .failed, .interrupted: break  // the error itself was reported
            }
        case .none, .auto: break
        }
    }

    func summary(_ report: RunReport) {
        if mode == .line { console.endLive() }
        if mode == .json {
            emit(Event(event: "summary", seconds: rounded(report.seconds), peakRSSBytes: report.peakRSSBytes, done: report.done,
                       skipped: report.skipped, failed: report.failed, interrupted: report.interrupted))
        }
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
    }
}
