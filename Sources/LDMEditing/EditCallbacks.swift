/// What an edit reports while it runs. Called on the editing thread.
public struct EditCallbacks: Sendable {
    /// After each sampling step: steps done and steps in all (over every model run of the edit).
    public var progress: @Sendable (_ step: Int, _ steps: Int) -> Void
    /// As soon as a warning is known (also listed in `EditResult.warnings`).
    public var warning: @Sendable (EditWarning) -> Void
    public var cancellation: CancellationToken

    public init(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }, warning: @escaping @Sendable (EditWarning) -> Void = { _ in },
                cancellation: CancellationToken = CancellationToken()) {
        self.progress = progress
        self.warning = warning
        self.cancellation = cancellation
    }
}
