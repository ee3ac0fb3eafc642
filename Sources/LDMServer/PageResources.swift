import Foundation

/// The page (HTML, CSS, JavaScript), read once at start from the target's resources: a fixed set of
/// files served from memory, so no request path ever reaches the file system.
struct PageResources: Sendable {
    struct File: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    let files: [String: File]

    static let names: [(name: String, contentType: String)] = [
        ("index.html", "text/html; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"),
        ("editor.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8"),
    ]

    /// Errors: `ServerError.pageMissing` naming the folders searched.
    init() throws {
        let folders = Self.searchFolders()
        guard let folder = folders.first(where: { FileManager.default.fileExists(atPath: "\($0)/index.html") }) else {
            throw ServerError.pageMissing(searched: folders)
        }
        var files: [String: File] = [:]
        for (name, contentType) in Self.names {
            guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)") else {
                throw ServerError.pageMissing(searched: ["\(folder)/\(name)"])
            }
            files[name] = File(bytes: Array(data), contentType: contentType)
        }
        self.files = files
    }

    /// SwiftPM copies `Page/` into `ldm-edit_LDMServer.resources/` beside the binary (and beside the test
    /// bundle). Looked up by hand: `Bundle.module` stops the process when the folder is missing.
    static func searchFolders() -> [String] {
        let bundle = "ldm-edit_LDMServer.resources/Page"
        var folders: [String] = []
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        folders.append("\(executable)/\(bundle)")
        folders.append("\(Bundle.main.bundlePath)/\(bundle)")
        if let argument = CommandLine.arguments.first {
            folders.append(URL(fileURLWithPath: argument).resolvingSymlinksInPath().deletingLastPathComponent().path + "/\(bundle)")
        }
        var unique: [String] = []
        for folder in folders where !unique.contains(folder) { unique.append(folder) }
        return unique
    }
}
