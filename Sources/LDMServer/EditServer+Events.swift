import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Synchronization

/// Progress as server-sent events (`text/event-stream`; the page reads them with `EventSource`):
/// `event: job` with the job's JSON each time it moves (queued with its place, each step with the time
/// left, then done, failed or cancelled).
///
/// - GET /api/events?session=S: every job of one page, for as long as the page is open. When the page's
///   last stream closes (the tab is closed or reloaded) its waiting and running jobs are cancelled.
/// - GET /api/jobs/ID/events: one job, ending after its last state (for scripts: `curl -N`).
extension EditServer {
    /// How often streams look for changes, and how often an idle stream sends a comment to find out
    /// whether the page is still there.
    static let eventPoll = Duration.milliseconds(150)
    static let heartbeat: TimeInterval = 5

    func sessionEvents(_ request: Request) throws -> Response {
        guard let session = request.uri.queryParameters["session"].map(String.init), board.hasSession(session) else {
            throw APIError.notFound("session")
        }
        let board = self.board
        return Response(status: .ok, headers: Self.eventHeaders, body: ResponseBody { writer in
            board.streamOpened(session: session)
            let closed = ClosedFlag()
            do {
                try await request.body.consumeWithInboundCloseHandler { _ in
                    try await Self.pump(&writer, closed: closed, jobs: { board.jobs(session: session) }, board: board, endsWith: nil)
                } onInboundClosed: {
                    closed.set()
                }
            } catch {
                // The page went away mid-write: handled as a close.
            }
            board.streamClosed(session: session)
            try? await writer.finish(nil)
        })
    }

    func jobEvents(_ request: Request, id: String) -> Response {
        let board = self.board
        return Response(status: .ok, headers: Self.eventHeaders, body: ResponseBody { writer in
            let closed = ClosedFlag()
            try await request.body.consumeWithInboundCloseHandler { _ in
                try await Self.pump(&writer, closed: closed, jobs: { board.job(id).map { [$0] } ?? [] }, board: board, endsWith: id)
            } onInboundClosed: {
                closed.set()
            }
            try await writer.finish(nil)
        })
    }

    static var eventHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return headers
    }

    /// Writes each job whenever its revision or place in the queue changed, until the client leaves or,
    /// with `endsWith`, that job has finished and been sent.
    private static func pump(_ writer: inout any ResponseBodyWriter, closed: ClosedFlag, jobs: () -> [(job: Job, ahead: Int?)],
                             board: JobBoard, endsWith: String?) async throws {
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        var sent: [String: String] = [:]
        var lastRevision = -1
        var lastWrite = Date()
        // The server stopping (Ctrl-C) ends every stream, so open pages do not hold it up.
        while !closed.isSet, !Task.isShuttingDownGracefully {
            let revision = board.revision
            if revision != lastRevision {
                lastRevision = revision
                var finished = false
                for (job, ahead) in jobs() {
                    let stamp = "\(job.revision)/\(ahead ?? -1)"
                    if sent[job.id] != stamp {
                        sent[job.id] = stamp
                        let data = try JSONSerialization.data(withJSONObject: job.json(ahead: ahead), options: [.sortedKeys, .withoutEscapingSlashes])
                        try await writer.write(ByteBuffer(string: "event: job\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
                        lastWrite = Date()
                    }
                    if job.id == endsWith, job.state.isFinished { finished = true }
                }
                if finished || (endsWith != nil && jobs().isEmpty) { return }
            }
            if Date().timeIntervalSince(lastWrite) > heartbeat {
                try await writer.write(ByteBuffer(string: ": still here\n\n"))
                lastWrite = Date()
            }
            try await Task.sleep(for: eventPoll)
        }
    }
}

/// Set once when the client's side of the connection closes.
final class ClosedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
