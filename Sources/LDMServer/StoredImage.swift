import Foundation
import LDMImageIO

/// An image the server holds for the page: an upload (input or mask) or a result. The file lives in the
/// server's private work folder under a name the server chose; clients know it only by `id`.
public struct StoredImage: Sendable, Equatable {
    public let id: String
    /// The name the page shows and provenance records: the upload's file name (last component, cleaned)
    /// or the result's ("photo_inpainted.png").
    public let name: String
    let path: String
    let previewPath: String
    public let format: ImageFormat
    public let width: Int
    public let height: Int
    public let bitDepth: Int
    public let channels: Int
    /// SHA-256 of the file's bytes (provenance's `input_sha256` / `mask_sha256`).
    public let sha256: String

    /// A file name safe to show and to record: the last path component, control characters and quotes
    /// dropped, at most 120 characters; "image" when nothing is left.
    static func cleanName(_ raw: String?) -> String {
        let last = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let kept = last.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0.value != 0x7F }
        let name = String(String.UnicodeScalarView(kept)).trimmingCharacters(in: .whitespaces)
        return name.isEmpty || name == "." || name == ".." ? "image" : String(name.prefix(120))
    }

    /// JSON for the page.
    var json: [String: Any] {
        ["id": id, "name": name, "format": format.rawValue, "width": width, "height": height, "bit_depth": bitDepth, "channels": channels,
         "sha256": sha256]
    }
}
