/// Why the server could not start.
public enum ServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The page's files are not beside the binary.
    case pageMissing(searched: [String])
    /// The work folder for uploads and results could not be made.
    case workFolder(path: String, reason: String)

    public var description: String {
        switch self {
        case .pageMissing(let searched):
            "the web page's files are missing (ldm-edit_LDMServer.resources/Page, looked in: \(searched.joined(separator: ", ")))"
        case .workFolder(let path, let reason): "\(path): cannot make the folder for uploads and results: \(reason)"
        }
    }
}
