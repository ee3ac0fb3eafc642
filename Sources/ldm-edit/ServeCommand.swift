import ArgumentParser
import Foundation
import LDMEditing
import LDMImageIO
import LDMServer

extension LDMEdit {
    /// `ldm-edit serve`: the web page (LDMServer). Parses, checks, prints the URL; the server does the rest.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a local web page to paint masks and run inpainting and upscaling.",
            discussion: """
                Prints a URL with a random access token; open it in a browser on this machine. Every API call \
                must carry the token. Jobs run one at a time, oldest first; closing the page cancels its jobs. \
                The page offers the default models (ldm-edit-inpaint.safetensors, ldm-edit-sr.safetensors where \
                they are found), every model directly in --models, and classical Lanczos upscaling. \
                Stop with Ctrl-C. docs/ui.md describes the page, the API and the security model.

                Examples:
                  ldm-edit serve
                  ldm-edit serve --models ~/models --port 8080
                """)

        @Option(help: ArgumentHelp("Address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) lets other machines reach the server.", valueName: "address"))
        var host = "127.0.0.1"

        @Option(help: ArgumentHelp("Port (0: any free one).", valueName: "port"))
        var port = 7860

        @Option(help: ArgumentHelp("Folder of models to offer besides the defaults: every model file and diffusers folder directly in it.", valueName: "folder"))
        var models: String?

        @Option(name: .customLong("max-memory"), help: ArgumentHelp("Memory ceiling of one edit, e.g. 6G (default: 75% of the memory available when its model loads).", valueName: "size"))
        var maxMemory: String?

        @Option(name: .customLong("max-upload"), help: ArgumentHelp("Largest upload accepted (default 64M).", valueName: "size"))
        var maxUpload = "64M"

        @Option(name: .customLong("max-pixels"), help: ArgumentHelp("Largest image accepted or produced, in pixels (default 67108864 = 8192²).", valueName: "n"))
        var maxPixels = 1 << 26

        @Option(help: "Threads for one edit (default: number of physical cores).")
        var threads: Int?

        func validate() throws {
            if let models, !BatchPlan.isDirectory(models) { throw ValidationError("--models \(models): no such folder.") }
            if let maxMemory, MemorySize.parse(maxMemory) == nil {
                throw ValidationError("--max-memory \(maxMemory): use a size such as 6G, 6GB, 512M or a number of bytes.")
            }
            if MemorySize.parse(maxUpload) == nil { throw ValidationError("--max-upload \(maxUpload): use a size such as 64M.") }
            if maxPixels < 1 { throw ValidationError("--max-pixels must be positive, got \(maxPixels).") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
            if !(0...65535).contains(port) { throw ValidationError("--port must be 0-65535, got \(port).") }
        }

        func run() async throws {
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.modelsFolder = models
            configuration.threads = threads
            configuration.maxMemory = maxMemory.flatMap(MemorySize.parse)
            configuration.maxUploadBytes = MemorySize.parse(maxUpload) ?? configuration.maxUploadBytes
            configuration.maxPixels = maxPixels
            configuration.version = LDMEdit.version
            let reporter = Reporter()
            let catalog = ModelCatalog(modelsFolder: models)
            for (name, reason) in catalog.skipped { reporter.warning("--models: \(name) is not offered: \(reason)") }
            let models = catalog.entries.filter { $0.id != ModelCatalog.classicalID }
            if models.isEmpty {
                reporter.warning("no diffusion model found: only classical upscaling is offered (pass --models with a folder of models)")
            }
            for entry in models { reporter.status("model \(entry.id): \(entry.name) (\(entry.task.rawValue)\(entry.isDefault ? ", default" : ""))") }
            let server = try reporter.orExit { try EditServer(configuration: configuration, catalog: catalog) }
            if !configuration.isLoopback {
                reporter.warning("""
                    
                    ************************************************************************
                    * --host \(host): the server is reachable from OTHER MACHINES.
                    * Anyone who learns the URL (with its token) can upload images and run
                    * edits on this computer, over plain, unencrypted HTTP.
                    * Use the default (127.0.0.1) unless you mean it.
                    ************************************************************************
                    """)
            }
            do {
                try await server.run { port in
                    // Standard output: the one line scripts read (the URL); everything else goes to standard error.
                    // Unbuffered: a script reading the pipe gets it at once.
                    FileHandle.standardOutput.write(Data("ldm-edit serve: open \(server.url(port: port))\n".utf8))
                }
            } catch {
                reporter.error(UserMessage.describe(error))
                throw ExitCode(1)
            }
        }
    }
}
