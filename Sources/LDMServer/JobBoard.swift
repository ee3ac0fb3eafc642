import Foundation
import Synchronization

/// Every job and session, behind one lock: the FIFO of waiting jobs, the one running, the finished
/// ones (the newest `maxFinished` kept). Handlers submit, cancel and read; the worker takes the next
/// job and reports progress from the editing thread. Nothing here blocks or computes.
final class JobBoard: Sendable {
    private struct State {
        var jobs: [String: Job] = [:]
        var waiting: [String] = []  // submission order
        var running: String?
        var finished: [String] = []  // oldest first
        var sequence = 0
        var started = 0
        /// Open event streams per page session.
        var sessions: [String: Int] = [:]
        /// Bumped on every change (event streams poll it).
        var revision = 0
    }

    private let state = Mutex(State())
    let maxWaiting: Int
    let maxFinished: Int
    /// Wakes the worker when a job is submitted.
    let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(maxWaiting: Int, maxFinished: Int) {
        self.maxWaiting = maxWaiting
        self.maxFinished = maxFinished
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// No more jobs will be started (the server is stopping).
    func close() { wake.finish() }

    // MARK: Sessions

    /// Sessions kept at most; beyond that, those with no open stream and no unfinished job are forgotten.
    static let maxSessions = 1024

    func openSession() -> String {
        let id = AccessToken.random()
        state.withLock { state in
            if state.sessions.count >= Self.maxSessions {
                let busy = Set(state.jobs.values.filter { !$0.state.isFinished }.compactMap(\.session))
                state.sessions = state.sessions.filter { $0.value > 0 || busy.contains($0.key) }
            }
            state.sessions[id] = 0
        }
        return id
    }

    func hasSession(_ id: String) -> Bool { state.withLock { $0.sessions[id] != nil } }

    func streamOpened(session: String) { state.withLock { $0.sessions[session, default: 0] += 1 } }

    /// The page's last event stream closed (the page was closed or reloaded): its waiting and running
    /// jobs are cancelled. Returns the ids cancelled.
    @discardableResult
    func streamClosed(session: String) -> [String] {
        let ids = state.withLock { state -> [String] in
            state.sessions[session, default: 1] -= 1
            guard state.sessions[session] == 0 else { return [] }
            return state.jobs.values.filter { $0.session == session && !$0.state.isFinished }.map(\.id)
        }
        for id in ids { _ = cancel(id) }
        return ids
    }

    // MARK: Jobs

    /// Queues `order`; nil when `maxWaiting` jobs already wait.
    func submit(_ order: Job.Order, session: String?) -> Job? {
        let job = state.withLock { state -> Job? in
            guard state.waiting.count < maxWaiting else { return nil }
            state.sequence += 1
            let job = Job(id: String(AccessToken.random().prefix(16)), sequence: state.sequence, session: session, order: order)
            state.jobs[job.id] = job
            state.waiting.append(job.id)
            state.revision += 1
            return job
        }
        if job != nil { wake.yield() }
        return job
    }

    /// The job and how many jobs run before it (for a waiting one).
    func job(_ id: String) -> (job: Job, ahead: Int?)? {
        state.withLock { state in
            guard let job = state.jobs[id] else { return nil }
            return (job, Self.ahead(of: id, in: state))
        }
    }

    /// The session's jobs (unfinished and finished), oldest first, with their `ahead`.
    func jobs(session: String) -> [(job: Job, ahead: Int?)] {
        state.withLock { state in
            state.jobs.values.filter { $0.session == session }.sorted { $0.sequence < $1.sequence }.map { ($0, Self.ahead(of: $0.id, in: state)) }
        }
    }

    var revision: Int { state.withLock { $0.revision } }

    /// The running job and the waiting ones, in the order they will run.
    var queue: (running: String?, waiting: [String]) { state.withLock { ($0.running, $0.waiting) } }

    private static func ahead(of id: String, in state: State) -> Int? {
        guard let index = state.waiting.firstIndex(of: id) else { return nil }
        return index + (state.running == nil ? 0 : 1)
    }

    /// Cancels a waiting job at once, or asks the running one to stop (the worker then marks it).
    /// nil when there is no such job.
    func cancel(_ id: String) -> Job? {
        state.withLock { state in
            guard var job = state.jobs[id] else { return nil }
            job.cancellation.cancel()
            if job.state == .queued {
                state.waiting.removeAll { $0 == id }
                job.state = .cancelled
                job.finished = Date()
                Self.retire(&job, in: &state, maxFinished: maxFinished)
            }
            return job
        }
    }

    /// For the worker: the oldest waiting job, now running; nil when none waits.
    func startNext() -> Job? {
        state.withLock { state in
            guard state.running == nil, !state.waiting.isEmpty, var job = state.jobs[state.waiting.removeFirst()] else { return nil }
            state.started += 1
            job.state = .running
            job.runIndex = state.started
            job.started = Date()
            job.revision += 1
            state.revision += 1
            state.jobs[job.id] = job
            state.running = job.id
            return job
        }
    }

    /// Progress from the editing thread.
    func progress(_ id: String, step: Int, of steps: Int) {
        state.withLock { state in
            guard var job = state.jobs[id] else { return }
            let now = Date()
            (job.step, job.steps, job.lastStep) = (step, steps, now)
            if job.firstStep == nil { job.firstStep = (now, step) }
            job.revision += 1
            state.revision += 1
            state.jobs[id] = job
        }
    }

    func warn(_ id: String, _ message: String) { update(id) { $0.warnings.append(message) } }

    /// For the worker: the running job ended (`state` done, failed or cancelled).
    func finish(_ id: String, state newState: Job.State, result: StoredImage? = nil, plan: String? = nil, error: String? = nil) {
        state.withLock { state in
            guard var job = state.jobs[id] else { return }
            (job.state, job.result, job.plan, job.error, job.finished) = (newState, result, plan, error, Date())
            if newState == .done { job.step = job.steps }
            if state.running == id { state.running = nil }
            Self.retire(&job, in: &state, maxFinished: maxFinished)
        }
    }

    private func update(_ id: String, _ change: (inout Job) -> Void) {
        state.withLock { state in
            guard var job = state.jobs[id] else { return }
            change(&job)
            job.revision += 1
            state.revision += 1
            state.jobs[id] = job
        }
    }

    /// Stores a finished job and forgets the oldest finished ones beyond `maxFinished`.
    private static func retire(_ job: inout Job, in state: inout State, maxFinished: Int) {
        job.revision += 1
        state.revision += 1
        state.jobs[job.id] = job
        state.finished.append(job.id)
        while state.finished.count > maxFinished { state.jobs[state.finished.removeFirst()] = nil }
    }
}
