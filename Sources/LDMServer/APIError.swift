import Foundation
import HTTPTypes
import Hummingbird

/// Why an API call was refused: the HTTP status and a sentence for the page. Every error a handler
/// throws becomes `{"error": message, "code": code}` (`ErrorMiddleware`); the server lives on.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    /// A stable word for programs ("bad_token", "too_large", ...).
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static let missingToken = APIError(.unauthorized, "bad_token", "missing or wrong access token: open the URL `ldm-edit serve` printed")
    static func crossOrigin(_ detail: String) -> APIError { APIError(.forbidden, "cross_origin", "refused a cross-origin request (\(detail))") }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) not found") }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, "too_large", message) }
    static func badImage(_ message: String) -> APIError { APIError(.unprocessableContent, "bad_image", message) }
    static func busy(_ message: String) -> APIError { APIError(.serviceUnavailable, "busy", message) }

    /// A decoding error in a sentence: the field path and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? context.debugDescription : "\(keys): \(context.debugDescription)"
        }
        switch error {
        case .keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): return path(context)
        @unknown default: return "\(error)"
        }
    }
}
