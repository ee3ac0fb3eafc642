/// The random secret printed at start (in the page's URL) that every API call must carry, in the
/// `X-LDM-Token` header or, where a browser cannot set headers (an `<img>`, an `EventSource`), the
/// `token` query parameter.
public enum AccessToken {
    /// 128 random bits as 32 lowercase hex digits (the system's CSPRNG).
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Compares without stopping at the first difference, so response times do not reveal a prefix.
    public static func matches(_ given: Substring?, _ expected: String) -> Bool {
        guard let given else { return false }
        let (a, b) = (Array(given.utf8), Array(expected.utf8))
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count { difference |= (i < a.count ? a[i] : 0) ^ b[i] }
        return difference == 0
    }
}
