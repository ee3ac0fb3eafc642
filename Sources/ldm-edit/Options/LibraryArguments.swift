import ArgumentParser
import LDMImageIO
import LDMModels
import LDMPipelines

// Choices the libraries define are parsed straight from their enums: the raw values are the
// command line's words, `CaseIterable` lists them in --help and shell completions, and an unknown
// word is a usage error (exit 64), never a silent default.
extension SamplerKind: ExpressibleByArgument {}
extension InpaintingStrategy: ExpressibleByArgument {}
extension ResamplingFilter: ExpressibleByArgument {}
extension TileNormalisation: ExpressibleByArgument {}

extension ModelTask {
    /// The subcommand that runs a model for this task.
    var command: String {
        switch self {
        case .superResolution: "upscale"
        case .inpainting: "inpaint"
        }
    }
}
