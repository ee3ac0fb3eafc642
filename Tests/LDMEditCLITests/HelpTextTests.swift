import Testing

@Suite struct HelpTextTests {
    @Test func rootHelpListsModesAndExitCodes() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: ldm-edit <subcommand>"))
        #expect(r.stdout.contains("upscale"))
        #expect(r.stdout.contains("64 bad command line"))
        for sub in ["inpaint", "inspect", "convert", "serve"] { #expect(r.stdout.contains(sub), "\(sub) listed") }
    }

    @Test func upscaleHelpShowsOptions() throws {
        let r = try CLI.run(["upscale", "--help"])
        #expect(r.status == 0)
        for option in ["--method <method>", "lanczos", "bicubic", "-o, --output <path>", "--threads <threads>",
                       "--max-pixels <max-pixels>", "--quality <quality>"] {
            #expect(r.stdout.contains(option), "missing \(option)")
        }
    }

    @Test func versionAndCompletion() throws {
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        for shell in ["bash", "zsh", "fish"] {
            let r = try CLI.run(["--generate-completion-script", shell])
            #expect(r.status == 0 && r.stdout.contains("upscale"), "\(shell)")
        }
    }

    @Test func badCommandLinesExitWith64() throws {
        let cases: [([String], String)] = [
            (["upscale"], "Missing expected argument"),
            (["upscale", "x.png", "--method", "nearest"], "nearest"),
            (["upscale", "x.png", "--threads", "0"], "--threads must be at least 1"),
            (["upscale", "x.png", "--quality", "101"], "--quality must be 1-100"),
            (["upscale", "x.png", "-o", "out.bmp"], "unknown output format"),
            (["upscale", CLI.sample("Samples/lowres")], "give an output folder with -o"),
            (["frobnicate"], "Unexpected argument"),
        ]
        for (arguments, message) in cases {
            let r = try CLI.run(arguments)
            #expect(r.status == 64, "\(arguments): status \(r.status)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }
}
