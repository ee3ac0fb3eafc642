import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// holder goes away (a Swift Testing suite makes one instance per test, so a `let` property of this
/// type lives exactly as long as the test).
final class TemporaryFolder: @unchecked Sendable {
    let path: String

    init(_ prefix: String) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
