import Foundation
import Testing
@testable import LDMServer

/// The token and same-origin rules, and the JSON errors every refusal gets.
@Suite(.serialized) struct AccessTests {
    @Test func thePageLoadsWithoutTheTokenTheAPIDoesNot() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let page = try await server.request("GET", "/", token: .some(nil))
        #expect(page.status == 200)
        #expect(page.text.contains("<title>ldm-edit</title>"))
        #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        #expect(page.headers["referrer-policy"] == "no-referrer")
        for script in ["/app.js", "/editor.js", "/app.css"] { #expect(try await server.request("GET", script, token: .some(nil)).status == 200) }

        // The first digit changed to another one (a fixed "0" would be the token itself one time in 16).
        let otherFirst = server.token.hasPrefix("0") ? "1" : "0"
        let tokens: [String?] = [nil, "", otherFirst + server.token.dropFirst(), server.token + "0"]
        for token in tokens {
            let reply = try await server.request("GET", "/api/info", token: .some(token))
            #expect(reply.status == 401)
            #expect(reply.json["code"] as? String == "bad_token")
            #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
        }
        let info = try await server.request("GET", "/api/info")
        #expect(info.status == 200)
        #expect((info.json["samplers"] as? [String])?.contains("ddim") == true)
        // The query form, for <img> and EventSource.
        #expect(try await server.request("GET", "/api/info?token=\(server.token)", token: .some(nil)).status == 200)
        #expect(try await server.request("GET", "/api/info?token=wrong", token: .some(nil)).status == 401)
    }

    @Test func crossOriginAndRebindingRequestsAreRefused() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let origin = "http://127.0.0.1:\(server.port)"
        #expect(try await server.request("GET", "/api/info", headers: [("Origin", origin)]).status == 200)
        #expect(try await server.request("GET", "/api/info", headers: [("Sec-Fetch-Site", "same-origin")]).status == 200)
        let refused = [
            try await server.request("POST", "/api/sessions", headers: [("Origin", "http://evil.example")]),
            try await server.request("POST", "/api/sessions", headers: [("Origin", "http://127.0.0.1:1")]),
            try await server.request("GET", "/api/info", headers: [("Sec-Fetch-Site", "cross-site")]),
            // DNS rebinding: a foreign name resolving to 127.0.0.1.
            try await server.request("GET", "/api/info", host: "evil.example:\(server.port)"),
        ]
        for reply in refused {
            #expect(reply.status == 403)
            #expect(reply.json["code"] as? String == "cross_origin")
        }
        #expect(try await server.request("GET", "/api/info", host: "localhost:\(server.port)").status == 200)
        #expect(try await server.request("GET", "/api/info", host: "[::1]:\(server.port)").status == 200)
    }

    @Test func loopbackIsTold() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] { #expect(ServerConfiguration.isLoopback(host)) }
        for host in ["0.0.0.0", "192.168.1.4", "::", "example.com"] { #expect(!ServerConfiguration.isLoopback(host)) }
        #expect(ServerConfiguration.isLoopbackAuthority("localhost:7860"))
        #expect(ServerConfiguration.isLoopbackAuthority("[::1]:7860"))
        #expect(!ServerConfiguration.isLoopbackAuthority("evil.example:7860"))
        #expect(!ServerConfiguration.isLoopbackAuthority("127.0.0.1.evil.example"))
    }

    @Test func tokensAreRandomAndComparedWhole() {
        let a = AccessToken.random(), b = AccessToken.random()
        #expect(a.count == 32 && a != b)
        #expect(AccessToken.matches(Substring(a), a))
        #expect(!AccessToken.matches(Substring(a.prefix(31)), a))
        #expect(!AccessToken.matches(nil, a))
    }
}
