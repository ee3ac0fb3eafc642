import Foundation
import Testing

/// The runner itself: a child that writes more than a pipe holds to stderr before stdout must not
/// deadlock it (a Linux pipe buffers 64 KiB).
@Suite struct CLIRunnerTests {
    @Test func drainsBothPipesConcurrently() throws {
        let script = "yes e | head -c 300000 >&2; yes o | head -c 200000; exit 3"
        let result = try CLI.run(["-c", script], executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(result.status == 3)
        #expect(result.stderr.utf8.count == 300_000 && result.stderr.hasPrefix("e\ne\n"))
        #expect(result.stdout.utf8.count == 200_000 && result.stdout.hasPrefix("o\no\n"))
    }
}
