import ArgumentParser
import LDMParallel
import LDMImageIO

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for computation (default: number of physical cores).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Largest image accepted, in pixels, for inputs and outputs.",
        discussion: "Checked from the file header before decoding, so a small file claiming a huge image is refused cheaply."))
    var maxPixels: Int = ImageReadOptions.defaultMaxPixels

    @Flag(name: .shortAndLong, help: "Print only errors and warnings.")
    var quiet = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be positive, got \(maxPixels).") }
    }

    /// Applies the thread count to the one place that decides parallelism.
    func applyThreads() {
        if let threads { Parallel.defaultThreads = threads }
    }
}
