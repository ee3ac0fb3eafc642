import Synchronization

/// Asks a running edit to stop. The editor checks it between sampling steps (and before starting),
/// and then throws `EditError.cancelled` without producing anything.
///
/// Either cancelled explicitly (`cancel()`, from any thread: a server's request handler) or, when
/// made with `polling:`, whenever the closure says so (a signal flag set by a C handler).
public final class CancellationToken: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let poll: (@Sendable () -> Bool)?

    public init() { poll = nil }

    public init(polling: @escaping @Sendable () -> Bool) { poll = polling }

    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) || poll?() == true }
}
