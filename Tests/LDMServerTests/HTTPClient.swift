import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 client over a plain socket, one connection per request: the API tests need to send
/// what a browser would not (no token, a foreign Origin or Host, a body larger than allowed, a stream
/// closed half way), which a full client library hides. Chunked and length-delimited bodies are read.
struct HTTPReply: @unchecked Sendable {
    let status: Int
    /// Lowercased names.
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
}

struct HTTPClientError: Error, CustomStringConvertible {
    let description: String
}

/// Used by one task at a time (through `blocking`).
final class HTTPConnection: @unchecked Sendable {
    private let socket: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 60) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPClientError(description: "socket: \(errno)") }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(socket)
            throw HTTPClientError(description: "connect to port \(port): errno \(errno)")
        }
    }

    deinit { Glibc.close(socket) }

    func close() { shutdown(socket, Int32(SHUT_RDWR)) }

    /// Writes everything; false when the server closed the connection first (it may refuse a large body early).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Bytes until `delimiter` (consumed, not returned); nil at end of stream.
    private func read(until delimiter: [UInt8]) throws -> [UInt8]? {
        while true {
            if let range = firstRange(of: delimiter) {
                let line = Array(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                return line
            }
            guard try fill() else { return nil }
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw HTTPClientError(description: "connection closed inside a body") }
        }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HTTPClientError(description: "receive: errno \(errno) (timed out?)") }
        if n == 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    private func firstRange(of delimiter: [UInt8]) -> Range<Int>? {
        guard buffer.count >= delimiter.count else { return nil }
        for i in 0...(buffer.count - delimiter.count) where buffer[i] == delimiter[0] {
            if Array(buffer[i..<(i + delimiter.count)]) == delimiter { return i..<(i + delimiter.count) }
        }
        return nil
    }

    /// Status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        guard let head = try read(until: Array("\r\n\r\n".utf8)) else { throw HTTPClientError(description: "no response") }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPClientError(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next piece of a chunked body; nil after the last.
    func readChunk() throws -> [UInt8]? {
        guard let sizeLine = try read(until: Array("\r\n".utf8)),
              let size = Int(String(decoding: sizeLine, as: UTF8.self).split(separator: ";")[0], radix: 16) else { return nil }
        if size == 0 {
            _ = try read(until: Array("\r\n".utf8))
            return nil
        }
        let data = try read(count: size)
        _ = try read(count: 2)
        return data
    }

    func readResponse() throws -> HTTPReply {
        let (status, headers) = try readHead()
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while let chunk = try readChunk() { body += chunk }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = try read(count: length)
        }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    static func requestBytes(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]?) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }
}

/// Server-sent events read from a chunked stream, one `event:`/`data:` block at a time.
final class EventReader: @unchecked Sendable {
    let connection: HTTPConnection
    private var text = ""

    init(_ connection: HTTPConnection) { self.connection = connection }

    /// The next event's JSON data; nil when the stream ended.
    func next() throws -> [String: Any]? {
        while true {
            if let range = text.range(of: "\n\n") {
                let block = String(text[..<range.lowerBound])
                text.removeSubrange(..<range.upperBound)
                let data = block.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
                if data.isEmpty { continue }  // retry: and comments
                return (try JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any]
            }
            guard let chunk = try connection.readChunk() else { return nil }
            text += String(decoding: chunk, as: UTF8.self)
        }
    }
}

/// Runs blocking socket work on a dispatch thread: a test task blocked in `recv` must not hold one of the
/// cooperative pool's few threads (other suites run on them meanwhile).
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// JSON values out of `blocking` (read once, by the task that waited for them).
struct Unchecked<T>: @unchecked Sendable {
    let value: T
}
