#if canImport(Glibc)
import Glibc
#endif

/// How `EditServer` runs: where it listens, which models it offers, and the ceilings that keep a
/// hostile or careless client from exhausting the machine. Knows no flags (the `serve` command maps them).
public struct ServerConfiguration: Sendable {
    /// Address to bind: loopback by default; anything else is reachable from the network (`isLoopback`).
    public var host = "127.0.0.1"
    /// 0: an ephemeral port (tests); the bound one is in `EditServer.Running.port`.
    public var port = 7860
    /// A folder of extra models (every model file and diffusers folder directly in it), offered after the
    /// default ones (`ModelLocator.defaultModels`).
    public var modelsFolder: String?
    /// Threads one edit uses (nil: the process default).
    public var threads: Int?
    /// Memory ceiling of one edit in bytes (nil: 75 % of what is available when its model is loaded).
    public var maxMemory: Int?
    /// Largest request body accepted (an uploaded image), in bytes.
    public var maxUploadBytes = 64 << 20
    /// Largest image accepted, in pixels, for uploads and results (checked from the header before decoding).
    public var maxPixels = 1 << 26
    /// Images (uploads and results) kept at once; the oldest that no waiting job needs are forgotten first.
    public var maxStoredImages = 256
    /// Jobs waiting at once; further submissions are refused (503) until some have run.
    public var maxQueuedJobs = 64
    /// Finished jobs remembered (their results stay downloadable until they are forgotten).
    public var maxFinishedJobs = 256
    /// The secret every API call carries; random per start unless set (tests).
    public var token = AccessToken.random()
    /// The folder uploads and results are written to; nil: a fresh private folder under the system's
    /// temporary folder, removed when the server stops.
    public var workFolder: String?
    /// The version recorded in results' provenance.
    public var version = "unknown"

    public init() {}

    /// Whether `host` only accepts connections from this machine.
    public var isLoopback: Bool { Self.isLoopback(host) }

    /// "localhost", "::1" or an IPv4 address in 127.0.0.0/8 (parsed, so "127.0.0.1.example.com" is not).
    public static func isLoopback(_ host: String) -> Bool {
        let trimmed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if trimmed.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    /// A `Host` header naming this machine: "localhost:7860", "127.0.0.1:7860", "[::1]:7860" (port optional).
    public static func isLoopbackAuthority(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return isLoopback(String(host))
    }
}
