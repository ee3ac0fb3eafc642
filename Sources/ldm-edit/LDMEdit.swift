import ArgumentParser

/// `ldm-edit`: the root command. It only dispatches to the editing modes.
@main
struct LDMEdit: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "ldm-edit",
        abstract: "Edit images with latent diffusion models on the CPU.",
        discussion: """
            Modes are subcommands. Each takes image files or folders and writes PNG, TIFF or JPEG \
            (chosen by the output's extension), keeping bit depth and alpha where the format allows.

            Exit status: 0 every input done (or already up to date); 1 at least one input failed (the \
            others were still done); 64 bad command line; 130 stopped by Ctrl-C (143 SIGTERM, 129 \
            SIGHUP) — finished outputs are kept, rerunning the same command resumes.
            """,
        version: version,
        subcommands: [Upscale.self, Inpaint.self, Info.self, Inspect.self, Convert.self, Bench.self, Serve.self])
}
