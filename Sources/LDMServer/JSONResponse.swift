import Foundation
import HTTPTypes
import Hummingbird

/// Responses the API gives: JSON objects (from `[String: Any]`, keys sorted) and files.
enum JSONResponse {
    static func object(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A file's bytes; `downloadName` makes the browser save it under that name.
    static func file(_ path: String, contentType: String, downloadName: String? = nil) throws -> Response {
        guard let data = FileManager.default.contents(atPath: path) else { throw APIError.notFound("image file") }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "private, max-age=3600"
        if let downloadName {
            // RFC 6266: an ASCII fallback and the UTF-8 name.
            let ascii = String(downloadName.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
            let encoded = downloadName.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._"))) ?? ascii
            headers[.contentDisposition] = "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

}
