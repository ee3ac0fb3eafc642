import Foundation
import LDMModels

/// SHA-256 of inputs, masks and models: the bytes that, with the request, decide an output.
public enum ContentHash {
    /// SHA-256 of a file's bytes, streamed.
    public static func sha256(ofFile path: String) throws(EditError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .cannotHash(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 8 << 20) ?? Data() } catch {
                throw .cannotHash(path: path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return hash.finish()
    }

    /// SHA-256 of a model file, remembered across runs for large files (`HashCache`).
    public static func sha256(ofModelFile path: String) throws(EditError) -> String {
        try HashCache.sha256(of: path) { () throws(EditError) in try sha256(ofFile: path) }
    }

    /// SHA-256 identifying a model: of the file itself, or for a folder (diffusers) of the sorted
    /// list "<relative path> <sha256>" of its JSON and weight files.
    public static func sha256(ofModel path: String) throws(EditError) -> String {
        guard isDirectory(path), let walker = FileManager.default.enumerator(atPath: path) else { return try sha256(ofModelFile: path) }
        let weightExtensions: Set<String> = ["json", "safetensors", "bin", "ckpt", "pt", "pth"]
        var lines: [String] = []
        for case let relative as String in walker where weightExtensions.contains((relative as NSString).pathExtension) {
            let full = (path as NSString).appendingPathComponent(relative)
            if !isDirectory(full) { lines.append("\(relative) \(try sha256(ofModelFile: full))") }
        }
        var hash = SHA256()
        hash.update(Array(lines.sorted().joined(separator: "\n").utf8))
        return hash.finish()
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
