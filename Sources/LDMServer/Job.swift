import Foundation
import LDMEditing
import LDMPipelines

/// One edit the page asked for, from submission to its result. Values only: `JobBoard` owns the
/// live copies and the worker changes them there.
struct Job: Sendable {
    enum State: String, Sendable {
        case queued, running, done, failed, cancelled

        var isFinished: Bool { self == .done || self == .failed || self == .cancelled }
    }

    /// What the client asked for, checked at submission (model from the catalogue, images from the store).
    struct Order: Sendable {
        let task: EditTask
        let model: ModelCatalog.Entry
        let image: StoredImage
        let mask: StoredImage?
        let sampler: SamplerKind?
        let steps: Int
        /// Drawn at submission when the client asked for a random one, so the page can show it at once.
        let seed: UInt64
        let seedGiven: Bool
        let prompt: PromptRequest?
        /// The x4 upscaler's low-res noise level; nil: the model's default (or a model without one).
        let noiseLevel: Int?
        /// Inpainting: the coarse-to-fine hole limit (`InpaintingRequest.holeLimit`); nil: off.
        var holeLimit: Int? = nil
        /// Inpainting: the seeds previewed (`InpaintingRequest.candidates`); 1: the seed alone.
        var candidates = 1
        /// Inpainting, with candidates: the previews' mean's low frequencies (`InpaintingRequest.blendCandidates`).
        var blendCandidates = false
    }

    let id: String
    /// Submission order: the queue runs the lowest waiting number first.
    let sequence: Int
    /// The page that submitted it (its jobs are cancelled when its event stream closes); nil: an API client.
    let session: String?
    let order: Order
    let cancellation = CancellationToken()
    var state = State.queued
    /// The n-th job the worker started (1, 2, …): FIFO order is visible to tests.
    var runIndex: Int?
    var step = 0
    var steps = 0
    let submitted = Date()
    var started: Date?
    var finished: Date?
    /// When the first sampling step ended and how many steps had then been done (time left is
    /// extrapolated from the steps after it, so model loading does not count).
    var firstStep: (date: Date, step: Int)?
    var lastStep: Date?
    var error: String?
    var result: StoredImage?
    var plan: String?
    var warnings: [String] = []
    /// Bumped on every change; event streams send a job again when it moves.
    var revision = 0

    /// Seconds until the last step, from the pace of the steps so far; nil before two steps.
    var secondsLeft: Double? {
        guard state == .running, let firstStep, let lastStep, step > firstStep.step, steps > step else { return nil }
        let pace = lastStep.timeIntervalSince(firstStep.date) / Double(step - firstStep.step)
        return pace * Double(steps - step)
    }

    /// The job as the page sees it; `ahead`: jobs that run before it (queued ones only).
    func json(ahead: Int?) -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "sequence": sequence, "state": state.rawValue, "task": order.task.rawValue, "model": order.model.id, "model_name": order.model.name,
            "image": order.image.id, "seed": order.seed, "seed_given": order.seedGiven, "steps_requested": order.steps,
            "step": step, "steps": steps, "warnings": warnings,
        ]
        object["sampler"] = order.sampler?.rawValue ?? order.model.defaultSampler?.rawValue
        if let level = order.noiseLevel ?? order.model.description?.defaultNoiseLevel { object["noise_level"] = level }
        if let limit = order.holeLimit { object["hole_limit"] = limit }
        if order.candidates > 1 { object["candidates"] = order.candidates }
        if order.blendCandidates { object["blend_candidates"] = true }
        if let ahead { object["ahead"] = ahead }
        if let runIndex { object["run_index"] = runIndex }
        if let secondsLeft { object["seconds_left"] = (secondsLeft * 10).rounded() / 10 }
        if let started { object["seconds"] = ((finished ?? Date()).timeIntervalSince(started) * 10).rounded() / 10 }
        if let error { object["error"] = error }
        if let result { object["result"] = result.json }
        if let plan { object["plan"] = plan }
        if let session { object["session"] = session }
        return object
    }
}
