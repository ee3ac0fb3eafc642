import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `ldm-edit serve`: a local web page to paint masks and run edits, the editing layer's second client.
///
/// Routes (`EditServer+Routes.swift`): the page at `/`, the JSON API under `/api/` (token and same-origin
/// checked by `AccessGuard`, errors as JSON by `ErrorMiddleware`), progress as server-sent events.
/// Jobs run one at a time from a FIFO (`JobBoard`, `JobWorker`); uploads and results live in a private
/// work folder (`ImageStore`). docs/ui.md describes the API and the security model.
public final class EditServer: Sendable {
    public let configuration: ServerConfiguration
    public let catalog: ModelCatalog
    let board: JobBoard
    let store: ImageStore
    let page: PageResources
    let logger: Logger
    /// Whether the work folder is the server's own (removed by `removeWorkFolder`).
    let ownsWorkFolder: Bool

    public init(configuration: ServerConfiguration, catalog: ModelCatalog, logger: Logger = Logger(label: "ldm-edit.serve")) throws {
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
        page = try PageResources()
        var folder = configuration.workFolder
        ownsWorkFolder = folder == nil
        if folder == nil {
            let template = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-edit-serve-XXXXXX").path
            var bytes = Array(template.utf8CString)
            guard mkdtemp(&bytes) != nil else { throw ServerError.workFolder(path: template, reason: String(cString: strerror(errno))) }
            folder = String(cString: bytes)
        }
        do {
            store = try ImageStore(folder: folder!, capacity: configuration.maxStoredImages, maxPixels: configuration.maxPixels)
        } catch {
            throw ServerError.workFolder(path: folder!, reason: "\(error)")
        }
        board = JobBoard(maxWaiting: configuration.maxQueuedJobs, maxFinished: configuration.maxFinishedJobs)
    }

    /// The Hummingbird application: routes, middleware, the job worker as one of its services.
    /// `onListening` receives the bound port once the server accepts connections.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AccessGuard(token: configuration.token, loopbackOnly: configuration.isLoopback))
        addRoutes(to: router)
        let worker = JobWorker(board: board, store: store, configuration: configuration, logger: logger)
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: nil),
                           services: [worker],
                           onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    /// Serves until SIGINT or SIGTERM (or until the calling task is cancelled).
    ///
    /// Handlers run on Swift's cooperative threads; nothing in the server blocks them (uploads are decoded
    /// on dispatch threads, the edit runs on a thread of its own). A task-executor preference that moved
    /// them to threads of their own deadlocked on shutdown (the runtime's task-status lock against
    /// AsyncAlgorithms' merge lock when the service group cancels), so there is none.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        defer { removeWorkFolder() }
        try await application(onListening: onListening).runService()
    }

    /// The URL to open: the token rides in the query (the page moves it out of the address bar).
    public func url(port: Int) -> String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)/?token=\(configuration.token)"
    }

    /// Deletes the uploads and results (only a folder the server made itself).
    public func removeWorkFolder() {
        if ownsWorkFolder { try? FileManager.default.removeItem(atPath: store.folder) }
    }
}
