import Foundation
import LDMEditing
import LDMImageIO
import Logging
@testable import LDMServer

/// A live server on an ephemeral loopback port for one test, over the repository's tiny fixture models
/// (Tests/LDMModelsTests/Fixtures/models; no default model is looked up, so the list is the same everywhere).
final class TestServer: Sendable {
    let server: EditServer
    let port: Int
    let token: String
    private let task: Task<Void, any Error>

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let modelsFolder = repository + "/Tests/LDMModelsTests/Fixtures/models"
    /// Read once: every test offers the same models.
    static let catalog = ModelCatalog(modelsFolder: modelsFolder, defaults: [])

    static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.version = "test"
        configuration.threads = 1
        configure(&configuration)
        // Quiet: the tests stop servers by cancelling them, which Hummingbird logs as errors.
        var logger = Logger(label: "ldm-edit.serve.test")
        logger.logLevel = .critical
        let server = try EditServer(configuration: configuration, catalog: catalog, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run { port in continuation.yield(port) } }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        return TestServer(server: server, port: port, token: configuration.token, task: task)
    }

    private init(server: EditServer, port: Int, token: String, task: Task<Void, any Error>) {
        (self.server, self.port, self.token, self.task) = (server, port, token, task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// The model id of the fixture named `name`.
    func model(_ name: String) throws -> String {
        guard let entry = server.catalog.entries.first(where: { $0.name == name }) else {
            throw HTTPClientError(description: "fixture model \(name) is not listed")
        }
        return entry.id
    }

    /// One request on a fresh connection, with the token and the page's own Host and Origin unless told otherwise.
    func request(_ method: String, _ path: String, body: [UInt8]? = nil, token: String?? = .none, host: String? = nil,
                 headers: [(String, String)] = []) async throws -> HTTPReply {
        let (port, bytes) = (self.port, HTTPConnection.requestBytes(method, path, headers: standardHeaders(token: token, host: host) + headers, body: body))
        return try await blocking {
            let connection = try HTTPConnection(port: port)
            connection.send(bytes)
            return try connection.readResponse()
        }
    }

    /// A GET and how long the server took to answer it, timed on the thread that waited (not this task,
    /// which other suites may keep off the CPU).
    func timedGet(_ path: String) async throws -> (reply: HTTPReply, seconds: Double) {
        let (port, bytes) = (self.port, HTTPConnection.requestBytes("GET", path, headers: standardHeaders(), body: nil))
        return try await blocking {
            let started = Date()
            let connection = try HTTPConnection(port: port)
            connection.send(bytes)
            let reply = try connection.readResponse()
            return (reply, Date().timeIntervalSince(started))
        }
    }

    func standardHeaders(token: String?? = .none, host: String? = nil) -> [(String, String)] {
        var headers = [("Host", host ?? "127.0.0.1:\(port)"), ("Connection", "close")]
        let chosen: String? = switch token {
        case .none: self.token
        case .some(let value): value
        }
        if let chosen { headers.append(("X-LDM-Token", chosen)) }
        return headers
    }

    func json(_ method: String, _ path: String, _ object: [String: Any]) async throws -> HTTPReply {
        try await request(method, path, body: Array(try JSONSerialization.data(withJSONObject: object)), headers: [("Content-Type", "application/json")])
    }

    /// Uploads a raster as PNG; the image's JSON.
    func upload(_ image: RasterImage, name: String = "photo.png") async throws -> [String: Any] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ldm-serve-test-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ImageFile.write(image, to: path)
        let reply = try await request("POST", "/api/images?name=\(name)", body: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        guard reply.status == 201 else { throw HTTPClientError(description: "upload: \(reply.status) \(reply.text)") }
        return reply.json
    }

    /// Polls the job until it has finished; its last JSON.
    func wait(for job: String, timeout: TimeInterval = 120) async throws -> [String: Any] {
        // Looks once more after the deadline: this task may have been kept off the CPU past it.
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let reply = try await request("GET", "/api/jobs/\(job)")
            if let state = reply.json["state"] as? String, ["done", "failed", "cancelled"].contains(state) { return reply.json }
            try await Task.sleep(for: .milliseconds(50))
        } while Date() < deadline
        throw HTTPClientError(description: "job \(job) did not finish in \(timeout) s")
    }

    /// Polls until `condition` holds for the job's JSON.
    func wait(for job: String, until condition: ([String: Any]) -> Bool, timeout: TimeInterval = 60) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let json = try await request("GET", "/api/jobs/\(job)").json
            if condition(json) { return json }
            try await Task.sleep(for: .milliseconds(20))
        } while Date() < deadline
        throw HTTPClientError(description: "job \(job) never reached the expected state")
    }
}

/// Test pictures: a smooth RGB gradient and a mask with a white square.
enum Pictures {
    static func photo(width: Int = 64, height: Int = 48, depth: Int = 8) throws -> RasterImage {
        var samples: [Int] = []
        for y in 0..<height {
            for x in 0..<width { samples += [x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)] }
        }
        return depth == 8 ? try RasterImage(width: width, height: height, channels: 3, samples: .uint8(samples.map { UInt8($0) }))
            : try RasterImage(width: width, height: height, channels: 3, samples: .uint16(samples.map { UInt16($0 * 257) }))
    }

    /// White (repaint) inside [x0, x1) × [y0, y1).
    static func mask(width: Int = 64, height: Int = 48, square: (Int, Int, Int, Int) = (16, 12, 40, 32)) throws -> RasterImage {
        var samples = [UInt8](repeating: 0, count: width * height)
        for y in square.1..<square.3 { for x in square.0..<square.2 { samples[y * width + x] = 255 } }
        return try RasterImage(width: width, height: height, channels: 1, samples: .uint8(samples))
    }
}
