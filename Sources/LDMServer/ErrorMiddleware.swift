import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns whatever a handler throws into a JSON error response, so a malformed request gets a clear
/// answer and never takes the server down: `APIError` as it is, Hummingbird's own (an oversized body,
/// an unknown route) with their status, anything else as 400 with its description (the typed errors of
/// the layers below describe themselves: a corrupt image, an unreadable request field).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Self.response(error)
        } catch let error as HTTPError {
            let code = error.status == .contentTooLarge ? "too_large" : error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            return Self.response(APIError(error.status, code, error.body ?? error.status.reasonPhrase))
        } catch let error as any HTTPResponseError {
            let status = error.status
            let message = status == .contentTooLarge ? "the request body is larger than the server accepts" : status.reasonPhrase
            return Self.response(APIError(status, status == .contentTooLarge ? "too_large" : "http_\(status.code)", message))
        } catch let error as DecodingError {
            return Self.response(.badRequest("malformed JSON: \(APIError.describe(error))"))
        } catch {
            context.logger.info("request refused: \(error)")
            return Self.response(.badRequest("\(error)"))
        }
    }

    static func response(_ error: APIError) -> Response {
        let object = ["error": error.message, "code": error.code]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
