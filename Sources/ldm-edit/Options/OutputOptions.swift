import ArgumentParser

/// Where and how results are written.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output file (one input) or folder (created if missing).",
        discussion: "Without it, each result is written beside its input as <stem>_x4.<ext>; folders need -o.",
        valueName: "path"))
    var output: String?

    @Option(name: .long, help: "JPEG quality, 1-100.")
    var quality: Int = 95

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100, got \(quality).") }
    }
}
