import Foundation

/// Byte counts as people write them: "6G", "6GB", "6GiB", "512M", "1.5G", "123456" (binary units).
public enum MemorySize {
    static let units: [(suffix: Character, bytes: Int)] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]

    /// The number of bytes `text` names, or nil when it is not a positive size.
    public static func parse(_ text: String) -> Int? {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count { number.removeLast(suffix.count) }
        var scale = 1.0
        if let last = number.last, let unit = units.first(where: { $0.suffix == last }) {
            scale = Double(unit.bytes)
            number.removeLast()
        }
        guard let value = Double(number), value > 0, value * scale < 9e18 else { return nil }
        return Int(value * scale)
    }

    /// The shortest exact form: "6G", "800M", "1536K", or plain bytes. `parse(format(n)) == n`.
    public static func format(_ bytes: Int) -> String {
        for unit in units where bytes >= unit.bytes && bytes % unit.bytes == 0 { return "\(bytes / unit.bytes)\(unit.suffix)" }
        return String(bytes)
    }
}
