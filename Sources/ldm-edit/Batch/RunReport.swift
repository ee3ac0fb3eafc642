import Foundation
import LDMImageIO

/// What happened to one input.
struct ImageRecord: Codable, Equatable {
    enum Status: String, Codable {
        /// Written now.
        case done
        /// Already complete from an earlier run with the same settings (resume).
        case skipped
        case failed
        /// Stopped by Ctrl-C/SIGTERM before it was finished (nothing written).
        case interrupted
    }

    var input: String
    var output: String?
    var status: Status
    var seconds: Double?
    /// Peak resident memory of the process while this image was processed.
    var peakRSSBytes: Int?
    /// The planner's estimate of that peak, and the plan it chose (diffusion only).
    var estimatedPeakBytes: Int?
    var plan: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case input, output, status, seconds, error, plan
        case peakRSSBytes = "peak_rss_bytes", estimatedPeakBytes = "estimated_peak_bytes"
    }
}

/// `--report FILE`: the whole run as one JSON document, written atomically when the run ends
/// (also after a failure with --fail-fast or a Ctrl-C).
struct RunReport: Encodable {
    var tool = "ldm-edit"
    var version = LDMEdit.version
    var command: [String] = CommandLine.arguments
    var task: String
    var started: String
    var seconds: Double = 0
    var threads: Int
    var shard: String?
    var interrupted = false
    var done = 0
    var skipped = 0
    var failed = 0
    /// Largest per-image peak, and the peak before the first image (model loading).
    var peakRSSBytes: Int?
    var images: [ImageRecord] = []

    enum CodingKeys: String, CodingKey {
        case tool, version, command, task, started, seconds, threads, shard, interrupted, done, skipped, failed, images
        case peakRSSBytes = "peak_rss_bytes"
    }

    mutating func add(_ record: ImageRecord) {
        images.append(record)
        switch record.status {
        case .done: done += 1
        case .skipped: skipped += 1
        case .failed: failed += 1
        case .interrupted: break
        }
        if let peak = record.peakRSSBytes { peakRSSBytes = max(peakRSSBytes ?? 0, peak) }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        try AtomicFile.write(to: path) { (temporary) throws(ImageIOError) in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw .writeFailed(path: path, reason: "cannot write the report")
            }
        }
    }
}
