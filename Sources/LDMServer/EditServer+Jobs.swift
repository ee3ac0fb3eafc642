import Foundation
import HTTPTypes
import Hummingbird
import LDMEditing
import LDMPipelines

extension EditServer {
    /// Largest job description accepted (JSON with ids, numbers and prompts).
    static let maxJobBytes = 64 << 10

    func addJobRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/jobs") { request, context in try await self.submit(request) }
        router.get("/api/jobs/:id") { _, context in try self.jobResponse(context) }
        router.delete("/api/jobs/:id") { _, context in
            guard let id = context.parameters.get("id"), self.board.cancel(id) != nil else { throw APIError.notFound("job") }
            return try self.jobResponse(context)
        }
        router.get("/api/queue") { _, _ in
            let queue = self.board.queue
            var object: [String: Any] = ["waiting": queue.waiting]
            object["running"] = queue.running
            return try JSONResponse.object(object)
        }
        router.get("/api/events") { request, _ in try self.sessionEvents(request) }
        router.get("/api/jobs/:id/events") { request, context in
            guard let id = context.parameters.get("id"), self.board.job(id) != nil else { throw APIError.notFound("job") }
            return self.jobEvents(request, id: id)
        }
    }

    private func jobResponse(_ context: BasicRequestContext) throws -> Response {
        guard let id = context.parameters.get("id"), let found = board.job(id) else { throw APIError.notFound("job") }
        return try JSONResponse.object(found.job.json(ahead: found.ahead))
    }

    /// POST /api/jobs with a `JobSubmission`; checked here, before it waits, so a mistake is answered at once.
    private func submit(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxJobBytes) } catch {
            throw APIError.tooLarge("a job description is at most \(Self.maxJobBytes) bytes")
        }
        let submission = try JobSubmission.decode(body)
        let order = try self.order(submission)
        if let session = submission.session, !board.hasSession(session) {
            throw APIError.badRequest("unknown session: POST /api/sessions gives one")
        }
        guard let job = board.submit(order, session: submission.session) else {
            throw APIError.busy("\(board.maxWaiting) jobs are already waiting; try again when some have run")
        }
        return try JSONResponse.object(job.json(ahead: board.job(job.id)?.ahead), status: .accepted)
    }

    /// The checked order: known model for the task, stored images of matching sizes, sampling values in range,
    /// a prompt exactly when the model reads text.
    func order(_ submission: JobSubmission) throws -> Job.Order {
        guard let task = EditTask(rawValue: submission.task) else {
            throw APIError.badRequest("task must be one of: \(EditTask.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // Only the listed ids: a name or path of the client's choosing never reaches the file system.
        guard let model = catalog.entry(submission.model) else {
            throw APIError(.badRequest, "unknown_model", "unknown model \(submission.model.prefix(80).debugDescription): choose one of GET /api/models")
        }
        guard model.task == task else { throw APIError.badRequest("model \(model.name) is for \(model.task.rawValue), not \(task.rawValue)") }
        guard let image = store[submission.image] else { throw APIError.notFound("image \(submission.image.prefix(40).debugDescription)") }
        var mask: StoredImage?
        if task == .inpaint {
            guard let maskID = submission.mask else { throw APIError.badRequest("inpainting needs a mask") }
            guard let found = store[maskID] else { throw APIError.notFound("mask \(maskID.prefix(40).debugDescription)") }
            guard found.width == image.width, found.height == image.height else {
                throw APIError.badRequest("the mask is \(found.width)x\(found.height), the image \(image.width)x\(image.height)")
            }
            mask = found
        } else if submission.mask != nil {
            throw APIError.badRequest("a mask belongs to inpainting only")
        }
        var sampler: SamplerKind?
        if let name = submission.sampler {
            guard let kind = SamplerKind(rawValue: name) else {
                throw APIError.badRequest("sampler must be one of: \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sampler = kind
        }
        let steps = submission.steps ?? model.defaultSteps(for: sampler)
        if let given = submission.seed, given < 0 { throw APIError.badRequest("seed must be 0 or more, got \(given)") }
        let seed = submission.seed.map { UInt64($0) } ?? SamplingRequest.randomSeed()
        do {
            _ = try SamplingRequest(sampler: sampler ?? .ddim, steps: steps, eta: 0, seed: seed, seedGiven: submission.seed != nil)
        } catch { throw APIError.badRequest("\(error)") }
        if let limit = submission.holeLimit {
            guard task == .inpaint else { throw APIError.badRequest("hole_limit belongs to inpainting only") }
            guard !model.takesPrompt else { throw APIError.badRequest("model \(model.name) reads text: hole_limit applies to the LDM inpainting models only") }
            do { _ = try InpaintingRequest(holeLimit: limit) } catch { throw APIError.badRequest("\(error)") }
        }
        if let count = submission.candidates {
            guard task == .inpaint else { throw APIError.badRequest("candidates belongs to inpainting only") }
            do { _ = try InpaintingRequest(candidates: count) } catch { throw APIError.badRequest("\(error)") }
        }
        // Left out, both follow the model (`Candidates.modelDefault`: ldm-edit's own inpainting models 8, blended).
        let defaults = task == .inpaint ? model.description?.defaultCandidates : nil
        let chosen = InpaintingRequest.candidates(submission.candidates, blend: submission.blendCandidates, defaults: defaults)
        if submission.blendCandidates == true, chosen.count < 2 {
            throw APIError.badRequest("blend_candidates needs candidates 2 or more" + (submission.candidates == nil ? " (this model previews one seed by default)" : ""))
        }
        return Job.Order(task: task, model: model, image: image, mask: mask, sampler: sampler, steps: steps, seed: seed,
                         seedGiven: submission.seed != nil, prompt: try promptRequest(submission, model: model),
                         noiseLevel: try noiseLevel(submission, model: model), holeLimit: submission.holeLimit,
                         candidates: chosen.count, blendCandidates: chosen.blend)
    }

    /// The submission's noise level, checked against the model's range (only noise-augmented upscalers take one).
    private func noiseLevel(_ submission: JobSubmission, model: ModelCatalog.Entry) throws -> Int? {
        guard let level = submission.noiseLevel else { return nil }
        guard let levels = model.description?.noiseLevels else {
            throw APIError.badRequest("model \(model.name) does not noise its low-res input: leave out noise_level")
        }
        guard levels.contains(level) else {
            throw APIError.badRequest("noise_level must be \(levels.lowerBound)-\(levels.upperBound), got \(level)")
        }
        return level
    }

    private func promptRequest(_ submission: JobSubmission, model: ModelCatalog.Entry) throws -> PromptRequest? {
        guard model.takesPrompt else {
            if submission.prompt != nil || submission.negativePrompt != nil || submission.guidance != nil {
                throw APIError.badRequest("model \(model.name) reads no text: leave out prompt, negative_prompt and guidance")
            }
            return nil
        }
        guard let text = submission.prompt else {
            throw APIError.badRequest("model \(model.name) is conditioned on text: send a prompt (\"\" for none)")
        }
        do {
            return try PromptRequest(prompt: text, negativePrompt: submission.negativePrompt,
                                     guidance: submission.guidance ?? model.description?.defaultGuidance ?? PromptRequest.defaultGuidance)
        } catch { throw APIError.badRequest("\(error)") }
    }
}
