import Dispatch

/// Where the server's request handlers run: threads of its own (a concurrent dispatch queue), not Swift's
/// cooperative pool, which has one thread per core. A program that keeps that pool busy (a test run of
/// CPU-heavy suites; a host embedding the server) would otherwise starve every handler and event stream
/// until it let go. Child tasks inherit the preference (`withTaskExecutorPreference`), so everything
/// Hummingbird runs per connection lands here; the edit itself has its own thread (`JobWorker`).
final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    // Immutable after init; DispatchQueue is thread-safe.
    private let queue = DispatchQueue(label: "ldm-edit.serve.handlers", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    static let shared = ServerExecutor()
}
