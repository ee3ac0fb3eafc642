import HTTPTypes
import Hummingbird

/// The server's door: every `/api/` call must carry the access token and come from the page's own
/// origin; every response gets headers that keep the page to itself.
///
/// Same-origin rules (a page on another site must not drive the server with the user's browser, and a
/// DNS-rebinding name must not reach it either):
/// - bound to loopback, the `Host` header must name a loopback address (`localhost`, `127.x`, `[::1]`);
/// - an `Origin` header, when present, must be `http://` + the `Host` header;
/// - `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (typed in the address bar).
struct AccessGuard<Context: RequestContext>: RouterMiddleware {
    let token: String
    let loopbackOnly: Bool

    static var tokenHeader: HTTPField.Name { HTTPField.Name("X-LDM-Token")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasPrefix("/api/") {
            try check(request)
        }
        var response = try await next(request, context)
        for (name, value) in SecurityHeaders.all where response.headers[name] == nil { response.headers[name] = value }
        return response
    }

    func check(_ request: Request) throws(APIError) {
        let host = request.head.authority ?? ""
        if loopbackOnly, !ServerConfiguration.isLoopbackAuthority(host) { throw .crossOrigin("Host \(host) is not this machine") }
        if let origin = request.headers[.origin], origin != "http://\(host)" {
            throw .crossOrigin("Origin \(origin) is not http://\(host)")
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            throw .crossOrigin("Sec-Fetch-Site \(site)")
        }
        let given = request.headers[Self.tokenHeader].map { Substring($0) } ?? request.uri.queryParameters["token"]
        guard AccessToken.matches(given, token) else { throw .missingToken }
    }
}

/// The headers every response gets (`AccessGuard`).
enum SecurityHeaders {
    /// No framing, no sniffing, no referrer (the page's URL holds the token), scripts and styles only
    /// from the server itself: the page loads nothing from elsewhere and works offline.
    static let all: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!,
         "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; script-src 'self'; style-src 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("Cross-Origin-Resource-Policy")!, "same-origin"),
    ]
}
