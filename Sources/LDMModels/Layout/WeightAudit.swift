/// The result of matching a model's parameter list against a weight file: every missing,
/// mis-shaped and unexpected key at once, so one run shows the whole problem.
public struct WeightAudit: Sendable, Equatable, CustomStringConvertible {
    public struct Mismatch: Sendable, Equatable {
        public let name: String
        public let expected: [Int]
        public let actual: [Int]
    }

    public var missing: [(name: String, shape: [Int])] = []
    public var mismatched: [Mismatch] = []
    public var unexpected: [String] = []
    public var hints: [String] = []

    public var isClean: Bool { missing.isEmpty && mismatched.isEmpty && unexpected.isEmpty }

    public static func == (a: WeightAudit, b: WeightAudit) -> Bool {
        a.missing.map(\.name) == b.missing.map(\.name) && a.mismatched == b.mismatched && a.unexpected == b.unexpected
    }

    /// Lists the first 20 of each kind, with counts and hints.
    public var description: String {
        var lines: [String] = []
        func section<T>(_ title: String, _ items: [T], _ text: (T) -> String) {
            guard !items.isEmpty else { return }
            lines.append("\(items.count) \(title):")
            lines += items.prefix(20).map { "  " + text($0) }
            if items.count > 20 { lines.append("  … and \(items.count - 20) more") }
        }
        section("missing", missing) { "\($0.name) \($0.shape)" }
        section("with the wrong shape", mismatched) { "\($0.name): expected \($0.expected), got \($0.actual)" }
        section("unexpected", unexpected) { $0 }
        lines += hints.map { "hint: " + $0 }
        return lines.joined(separator: "\n")
    }
}
