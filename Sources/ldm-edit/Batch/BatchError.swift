import Foundation

/// Errors of the batch layer itself (codec errors are `ImageIOError`, editing errors `EditError`).
enum BatchError: Error, CustomStringConvertible {
    case cannotCreateFolder(path: String, reason: String)
    case journal(path: String, reason: String)

    var description: String {
        switch self {
        case .cannotCreateFolder(let path, let reason): "\(path): cannot create output folder: \(reason)"
        case .journal(let path, let reason): "\(path): cannot record the finished output in the resume journal: \(reason)"
        }
    }
}
