import LDMModels

/// Why an edit could not be made (besides the errors of the layers below, which pass through:
/// `CheckpointError` loading a model, `ImageIOError` reading a file, `PipelineError` running one).
/// Payloads are the facts; the command line adds which flag or command to use.
public enum EditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No model was named and none of the default locations holds `fileName`; `unfinished` is a model of the
    /// task still in training found in one of them (`training/<fileName>`), not used by default.
    case noModel(task: ModelTask, fileName: String, searched: [String], unfinished: String?)
    /// A file could not be read to compute its SHA-256.
    case cannotHash(path: String, reason: String)
    /// The result would be width × height, more pixels than `limit`.
    case resultTooLarge(width: Int, height: Int, limit: Int)
    /// An inpainting edit was run without a mask.
    case maskRequired
    /// The request is for another task or model than the editor was loaded for.
    case requestMismatch(editor: String, request: String)
    /// The cancellation token was cancelled; nothing was produced.
    case cancelled

    public var description: String {
        switch self {
        case .noModel(let task, let fileName, let searched, let unfinished):
            "no \(task.rawValue) model: none was given and \(fileName) is in none of: \(searched.joined(separator: ", "))"
                + (unfinished.map { "; one still in training, short of its quality targets, is at \($0)" } ?? "")
        case .cannotHash(let path, let reason): "\(path): cannot read it to compute its SHA-256: \(reason)"
        case .resultTooLarge(let width, let height, let limit):
            "the result would be \(width)x\(height) (\(width * height) pixels), above the limit of \(limit) pixels"
        case .maskRequired: "inpainting needs a mask"
        case .requestMismatch(let editor, let request): "the editor runs \(editor), the request asks for \(request)"
        case .cancelled: "stopped on request before finishing"
        }
    }
}
