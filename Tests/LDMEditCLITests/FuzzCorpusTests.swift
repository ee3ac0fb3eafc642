import Foundation
import Testing

/// Replays every committed fuzz input (Tests/Fuzz/corpus and Tests/Fuzz/regressions) through the
/// `ldm-fuzz` replay driver, so seeds and the inputs of fixed crashes run with the normal suite: a
/// parser that traps, overflows or reads out of bounds on one of them fails here (docs/fuzzing.md).
@Suite struct FuzzCorpusTests {
    static let targets = ["safetensors", "zip", "unpickler", "torch", "config", "png", "jpeg", "tiff"]
    static let fuzz = CLI.binary.deletingLastPathComponent().appendingPathComponent("ldm-fuzz")

    @Test(arguments: targets) func replayCorpusAndRegressions(target: String) throws {
        let folders = ["corpus", "regressions"].map { CLI.sample("Tests/Fuzz/\($0)/\(target)") }
            .filter { FileManager.default.fileExists(atPath: $0) }
        #expect(folders.count >= 1, "no corpus for \(target)")
        let r = try run([target] + folders)
        #expect(r.status == 0, "ldm-fuzz \(target) exited \(r.status): \(r.stderr.suffix(2000))")
        // "<target>: N inputs, ...": the corpus must not be empty.
        #expect(r.stdout.hasPrefix("\(target): ") && !r.stdout.hasPrefix("\(target): 0 inputs"), "\(r.stdout)")
    }

    @Test func unknownTargetIsAUsageError() throws {
        let r = try run(["no-such-target", CLI.sample("Tests/Fuzz/corpus")])
        #expect(r.status == 2)
        #expect(r.stderr.contains("targets: safetensors"))
    }

    private func run(_ arguments: [String]) throws -> CLIResult {
        try CLI.run(arguments, executable: Self.fuzz)
    }
}
