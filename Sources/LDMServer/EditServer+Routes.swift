import Foundation
import HTTPTypes
import Hummingbird
import LDMEditing
import LDMImageIO
import LDMPipelines

extension EditServer {
    /// The page, the catalogue and the image routes here; jobs and events in `EditServer+Jobs.swift`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try self.pageFile("index.html") }
        for (name, _) in PageResources.names where name != "index.html" {
            router.get(RouterPath(stringLiteral: "/\(name)")) { _, _ in try self.pageFile(name) }
        }
        router.get("/api/info") { _, _ in try JSONResponse.object(self.info) }
        router.get("/api/models") { _, _ in try JSONResponse.object(["models": self.catalog.entries.map(Self.json)]) }
        router.post("/api/sessions") { _, _ in try JSONResponse.object(["session": self.board.openSession()], status: .created) }
        router.post("/api/images") { request, context in try await self.upload(request, context: context) }
        router.get("/api/images/:id") { _, context in try JSONResponse.object(try self.image(context).json) }
        router.get("/api/images/:id/preview") { _, context in
            try JSONResponse.file(try self.image(context).previewPath, contentType: "image/png")
        }
        router.get("/api/images/:id/file") { _, context in
            let image = try self.image(context)
            return try JSONResponse.file(image.path, contentType: "image/\(image.format.rawValue)", downloadName: image.name)
        }
        addJobRoutes(to: router)
        // Anything else under /api/ is a JSON 404 (the page's own paths are listed above).
        router.on("/api/**", method: .get) { _, _ -> Response in throw APIError.notFound("API route") }
        router.on("/api/**", method: .post) { _, _ -> Response in throw APIError.notFound("API route") }
        router.on("/api/**", method: .delete) { _, _ -> Response in throw APIError.notFound("API route") }
    }

    private func pageFile(_ name: String) throws -> Response {
        guard let file = page.files[name] else { throw APIError.notFound(name) }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// What the page needs before anything else: the version, the choices and the ceilings.
    var info: [String: Any] {
        [
            "version": configuration.version,
            "tasks": EditTask.allCases.map(\.rawValue),
            "samplers": SamplerKind.allCases.map(\.rawValue),
            "default_steps": SamplingRequest.defaultSteps,
            "max_upload_bytes": configuration.maxUploadBytes,
            "max_pixels": configuration.maxPixels,
            "max_queued_jobs": configuration.maxQueuedJobs,
            "default_guidance": Double(PromptRequest.defaultGuidance),
        ]
    }

    /// A catalogue entry as the page sees it: the summary `ldm-edit inspect` prints, with the folder the model
    /// lies in left out of the paths it names (a text encoder's), so no server path reaches the client.
    static func json(_ entry: ModelCatalog.Entry) -> [String: Any] {
        var lines = entry.description?.summary ?? ["classical 4x Lanczos resampling: no model, no sampling"]
        if let path = entry.path {
            let folder = (path as NSString).deletingLastPathComponent + "/"
            lines = lines.map { $0.replacingOccurrences(of: folder, with: "") }
        }
        var object: [String: Any] = ["id": entry.id, "name": entry.name, "task": entry.task.rawValue, "default": entry.isDefault,
                                     "takes_prompt": entry.takesPrompt, "description": lines]
        object["default_sampler"] = entry.defaultSampler?.rawValue
        if entry.description != nil { object["default_steps"] = entry.defaultSteps }
        if let description = entry.description, description.task == .inpaint {
            object["default_candidates"] = description.defaultCandidates?.count ?? 1
            object["default_blend_candidates"] = description.defaultCandidates?.blendsMean ?? false
        }
        if let description = entry.description, description.takesPrompt { object["default_guidance"] = Double(description.defaultGuidance) }
        if let description = entry.description, let levels = description.noiseLevels, let level = description.defaultNoiseLevel {
            object["noise_levels"] = ["min": levels.lowerBound, "max": levels.upperBound, "default": level]
        }
        return object
    }

    /// POST /api/images?name=photo.png with the file's bytes as the body (any content type).
    private func upload(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let limit = configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge("the upload is \(length) bytes, above the \(limit) bytes this server accepts")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError.tooLarge("the upload is larger than the \(limit) bytes this server accepts")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("empty upload: send the image file's bytes as the body") }
        let name = request.uri.queryParameters["name"].map(String.init)
        let bytes = Array(buffer.readableBytesView)
        let store = self.store
        let image = try await Self.offload { try store.add(upload: bytes, name: name) }
        return try JSONResponse.object(image.json, status: .created)
    }

    func image(_ context: BasicRequestContext) throws -> StoredImage {
        guard let id = context.parameters.get("id"), let image = store[id] else { throw APIError.notFound("image") }
        return image
    }

    /// Runs blocking work (decoding, encoding, hashing) on a dispatch queue, off Swift's cooperative threads.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
