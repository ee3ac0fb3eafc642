import Crypto
import Foundation

/// SHA-256 (FIPS 180-4) to identify weight, image and mask files (`inspect`, provenance, resume
/// keys). A thin streaming front over swift-crypto's hasher (BoringSSL's assembly kernels on Linux,
/// several times the speed of portable Swift): feed bytes in any chunking, then `finish()`.
/// Checked against the FIPS test vectors (ExportAndAuditTests.sha256Vectors).
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits.
    public mutating func finish() -> String {
        hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Digest of a whole mapped file, in 16 MiB steps (each released once hashed).
    public static func hex(of file: MappedFile) -> String {
        var h = SHA256()
        var offset = 0
        while offset < file.count {
            let end = min(file.count, offset + (16 << 20))
            h.update(UnsafeRawBufferPointer(rebasing: file.bytes[offset..<end]))
            file.release(offset..<end)
            offset = end
        }
        return h.finish()
    }
}
