import Foundation
import LDMEditing
import LDMImageIO
import Synchronization

/// The images the server holds (uploads and results), as files in its work folder, at most
/// `capacity` at once: beyond that the oldest that no waiting or running job needs are deleted.
/// Decoding checks every upload (format from its bytes, pixel ceiling from its header) before it is kept.
final class ImageStore: Sendable {
    private struct State {
        var images: [String: StoredImage] = [:]
        var order: [String] = []  // oldest first
        var pins: [String: Int] = [:]
    }

    let folder: String
    let capacity: Int
    let maxPixels: Int
    private let state = Mutex(State())

    init(folder: String, capacity: Int, maxPixels: Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.folder = folder
        self.capacity = capacity
        self.maxPixels = maxPixels
    }

    subscript(id: String) -> StoredImage? { state.withLock { $0.images[id] } }

    /// Checks, decodes and keeps uploaded bytes (blocking: call it off the event loop). Errors are
    /// `APIError`s that name the upload, never the server's file.
    func add(upload bytes: [UInt8], name rawName: String?) throws -> StoredImage {
        let name = StoredImage.cleanName(rawName)
        guard let format = ImageFormat(signature: bytes.prefix(8)) else {
            throw APIError(.unsupportedMediaType, "bad_image", "\(name): not a PNG, JPEG or TIFF file")
        }
        let id = Self.newID()
        let path = "\(folder)/\(id).\(format.preferredExtension)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internalServerError, "storage", "could not store the upload")
        }
        do {
            let raster = try ImageFile.read(path, options: ImageReadOptions(maxPixels: maxPixels))
            return try keep(id: id, name: name, path: path, format: format, raster: raster)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: previewPath(id))
            if case ImageIOError.tooLarge = error {
                throw APIError.tooLarge("\(name): the image has more than the \(maxPixels) pixels this server accepts")
            }
            throw APIError.badImage(Self.hidingPath("\(error)", path: path, name: name))
        }
    }

    /// Keeps a result the server wrote to `path` (its raster given, so it is not decoded again).
    func add(result raster: RasterImage, writtenTo path: String, id: String, name: String) throws -> StoredImage {
        try keep(id: id, name: name, path: path, format: .png, raster: raster)
    }

    private func keep(id: String, name: String, path: String, format: ImageFormat, raster: RasterImage) throws -> StoredImage {
        try ImageFile.write(raster.displayPreview(), to: previewPath(id), options: ImageWriteOptions(format: .png))
        let image = StoredImage(id: id, name: name, path: path, previewPath: previewPath(id), format: format, width: raster.width,
                                height: raster.height, bitDepth: raster.bitDepth, channels: raster.channels,
                                sha256: try ContentHash.sha256(ofFile: path))
        let evicted = state.withLock { state -> [StoredImage] in
            state.images[id] = image
            state.order.append(id)
            var evicted: [StoredImage] = []
            var index = 0
            while state.order.count - evicted.count > capacity, index < state.order.count {
                let candidate = state.order[index]
                if state.pins[candidate, default: 0] == 0, candidate != id, let old = state.images.removeValue(forKey: candidate) {
                    evicted.append(old)
                    state.order.remove(at: index)
                } else {
                    index += 1
                }
            }
            return evicted
        }
        for old in evicted {
            try? FileManager.default.removeItem(atPath: old.path)
            try? FileManager.default.removeItem(atPath: old.previewPath)
        }
        return image
    }

    /// A path for a new result file and its id.
    func newResultPath() -> (id: String, path: String) {
        let id = Self.newID()
        return (id, "\(folder)/\(id).png")
    }

    /// Keeps `ids` from eviction until `unpin`.
    func pin(_ ids: [String]) { state.withLock { for id in ids { $0.pins[id, default: 0] += 1 } } }
    func unpin(_ ids: [String]) {
        state.withLock { state in
            for id in ids {
                state.pins[id, default: 1] -= 1
                if state.pins[id] == 0 { state.pins[id] = nil }
            }
        }
    }

    var count: Int { state.withLock { $0.images.count } }

    private func previewPath(_ id: String) -> String { "\(folder)/\(id).preview.png" }

    /// 16 random hex digits.
    static func newID() -> String { String(AccessToken.random().prefix(16)) }

    /// Library errors name the file they failed on; the client sees its own file name instead.
    static func hidingPath(_ message: String, path: String, name: String) -> String {
        let text = message.replacingOccurrences(of: path, with: name)
        return text.hasPrefix(name) ? text : "\(name): \(text)"
    }
}
