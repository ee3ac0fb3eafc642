import Foundation
import LDMEditing
import LDMImageIO
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the queue: one job at a time, oldest first (the CPU is the bottleneck; two edits at once would
/// each take twice as long). Each edit runs on a thread of its own, so request handlers keep answering
/// while it computes. The editor of the last model used stays loaded for the next job.
final class JobWorker: Service, Sendable {
    let board: JobBoard
    let store: ImageStore
    let configuration: ServerConfiguration
    let logger: Logger
    private let loaded = Mutex<(id: String, editor: Editor)?>(nil)

    init(board: JobBoard, store: ImageStore, configuration: ServerConfiguration, logger: Logger) {
        self.board = board
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                for await _ in board.wakeUps {
                    while !Task.isCancelled, let job = board.startNext() {
                        await Self.onThread { self.execute(job) }
                    }
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Ends the loop and stops the running edit at its next step; waiting jobs die with the process.
    private func stop() {
        board.close()
        if let id = board.queue.running { _ = board.cancel(id) }
    }

    /// Runs `body` on a new thread (a large stack, off Swift's cooperative pool) and waits for it.
    static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                body()
                continuation.resume()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
    }

    /// One job, start to finish; never throws: the outcome is recorded on the board.
    private func execute(_ job: Job) {
        let order = job.order
        store.pin([order.image.id] + (order.mask.map { [$0.id] } ?? []))
        defer { store.unpin([order.image.id] + (order.mask.map { [$0.id] } ?? [])) }
        do {
            let editor = try editor(for: order.model)
            let request = try Self.request(order, editor: editor, maxMemory: configuration.maxMemory)
            try editor.check(request)
            let readOptions = ImageReadOptions(maxPixels: configuration.maxPixels)
            let image = try ImageFile.read(order.image.path, options: readOptions)
            let mask = try order.mask.map { try ImageFile.read($0.path, options: readOptions) }
            let (board, id) = (self.board, job.id)
            let callbacks = EditCallbacks(progress: { step, steps in board.progress(id, step: step, of: steps) },
                                          warning: { warning in board.warn(id, "\(warning)") },
                                          cancellation: job.cancellation)
            let result = try editor.run(request, image: image, mask: mask, callbacks: callbacks)
            let provenance = Provenance(version: configuration.version, settings: request, plan: result.plan, input: order.image.name,
                                        inputSHA256: order.image.sha256, mask: order.mask?.name, maskSHA256: order.mask?.sha256,
                                        key: try request.resumeKey(inputSHA256: order.image.sha256, maskSHA256: order.mask?.sha256))
            var output = result.image
            output.metadata = ImageMetadata(iccProfile: image.metadata.iccProfile, text: try provenance.json())
            let (resultID, path) = store.newResultPath()
            try ImageFile.write(output, to: path, options: ImageWriteOptions(format: .png))
            let stored = try store.add(result: output, writtenTo: path, id: resultID, name: Self.resultName(order))
            board.finish(job.id, state: .done, result: stored, plan: result.plan)
            logger.info("job \(job.id) done: \(order.task.rawValue) \(order.image.name) with \(order.model.name)")
        } catch EditError.cancelled {
            board.finish(job.id, state: .cancelled)
            logger.info("job \(job.id) cancelled")
        } catch {
            // The message names the client's file, never the server's copy, and the model by its name, not where it lies.
            var message = "\(error)"
            for image in [order.image] + (order.mask.map { [$0] } ?? []) {
                message = message.replacingOccurrences(of: image.path, with: image.name)
            }
            if let path = order.model.path {
                message = message.replacingOccurrences(of: (path as NSString).deletingLastPathComponent + "/", with: "")
            }
            board.finish(job.id, state: .failed, error: message)
            logger.warning("job \(job.id) failed: \(message)")
        }
    }

    /// The loaded editor when it serves `model`, else a newly loaded one (the old one is released first:
    /// two models need not fit in memory together).
    private func editor(for model: ModelCatalog.Entry) throws -> Editor {
        if let current = loaded.withLock({ $0 }), current.id == model.id { return current.editor }
        loaded.withLock { $0 = nil }
        var editor = try Editor(task: model.task, modelPath: model.path)
        editor.threads = configuration.threads
        editor.maxPixels = configuration.maxPixels
        loaded.withLock { $0 = (model.id, editor) }
        return editor
    }

    /// The edit request for `order` (checked again by `Editor.check`).
    static func request(_ order: Job.Order, editor: Editor, maxMemory: Int?) throws -> EditRequest {
        guard let model = editor.model else { return .upscale(method: .lanczos) }
        let sampling = try SamplingRequest(sampler: order.sampler ?? editor.defaultSampler, steps: order.steps, eta: 0, seed: order.seed,
                                           seedGiven: order.seedGiven)
        let tiling = try TilingRequest(maxMemory: maxMemory)
        switch order.task {
        case .inpaint: return .inpaint(model: model, sampling: sampling, tiling: tiling, inpainting: try InpaintingRequest(holeLimit: order.holeLimit,
                                                                                                           candidates: order.candidates,
                                                                                                           blendCandidates: order.blendCandidates),
                                       prompt: order.prompt)
        // The x4 upscaler: its prompt and the noise level asked for, else its default.
        case .upscale: return .upscale(model: model, sampling: sampling, tiling: tiling, prompt: order.prompt,
                                       noiseLevel: order.noiseLevel ?? editor.defaultNoiseLevel)
        }
    }

    /// "photo_inpainted.png", "photo_upscaled.png".
    static func resultName(_ order: Job.Order) -> String {
        let stem = (order.image.name as NSString).deletingPathExtension
        return "\(stem.isEmpty ? "image" : stem)_\(order.task == .inpaint ? "inpainted" : "upscaled").png"
    }
}
