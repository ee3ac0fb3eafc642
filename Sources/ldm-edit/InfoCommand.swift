import ArgumentParser
import Foundation
import LDMEditing
import LDMImageIO

extension LDMEdit {
    /// `ldm-edit info`: what an image file is, and how ldm-edit made it.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an image's size, layout, colour profile and the ldm-edit settings that made it.",
            discussion: """
                Reads only the file's header and metadata (no pixels). Outputs of ldm-edit carry their \
                provenance — tool version, task, model name and SHA-256, sampler, steps, eta, seed, \
                tiling, input hash and resume key — unless written with --no-metadata.

                Example:
                  ldm-edit info out/photo.png
                  ldm-edit info out/*.png --json
                """)

        @Argument(help: ArgumentHelp("Image files.", valueName: "file"))
        var files: [String]

        @Flag(name: .long, help: "Print one JSON object per file (JSON Lines) instead of text.")
        var json = false

        func run() throws {
            let reporter = Reporter()
            var failed = false
            for file in files {
                do {
                    let header = try ImageFile.readHeader(file, options: ImageReadOptions(maxPixels: Int.max))
                    print(json ? Self.json(file, header) : Self.text(file, header))
                } catch {
                    reporter.error("\(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }

        static func text(_ file: String, _ header: ImageHeader) -> String {
            let layout = ["", "gray", "gray+alpha", "RGB", "RGBA"][header.channels]
            var lines = ["\(file): \(header.format.rawValue.uppercased()) \(header.width)x\(header.height) \(layout) \(header.bitDepth)-bit"]
            if let icc = header.metadata.iccProfile {
                lines.append("  ICC profile: \(header.metadata.iccDescription.map { "\"\($0)\", " } ?? "")\(icc.count) bytes")
            } else {
                lines.append("  ICC profile: none")
            }
            guard let provenance = Provenance.parse(header.metadata.text) else {
                lines.append("  ldm-edit provenance: none")
                return lines.joined(separator: "\n")
            }
            let settings = provenance.settings
            lines.append("  made by: ldm-edit \(provenance.version), \(provenance.created)")
            lines.append("  task: \(settings.task.rawValue)")
            if let method = settings.method { lines.append("  method: \(method.rawValue)") }
            if let model = settings.model {
                lines.append("  model: \(model.name)")
                lines.append("  model sha256: \(model.sha256)")
            }
            if let guide = settings.guide {
                lines.append("  guide model: \(guide.model.name), weight \(guide.weight)")
                lines.append("  guide model sha256: \(guide.model.sha256)")
            }
            if let sampling = settings.sampling {
                lines.append("  sampler: \(sampling.sampler.rawValue), \(sampling.steps) steps" + (sampling.sampler == .ddim ? ", eta \(sampling.eta)" : ""))
                lines.append("  seed: \(sampling.seed)\(sampling.seedGiven ? "" : " (random)")")
            }
            if let prompt = settings.prompt {
                lines.append("  prompt: \(prompt.prompt.debugDescription)")
                if let negative = prompt.negativePrompt { lines.append("  negative prompt: \(negative.debugDescription)") }
                lines.append("  guidance: \(prompt.guidance)")
            }
            if let level = settings.noiseLevel { lines.append("  noise level: \(level)") }
            if let tiling = settings.tiling { lines.append("  tiling: \(tiling)") }
            if let plan = provenance.plan { lines.append("  plan: \(plan)") }
            for (name, value) in settings.options.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(value)") }
            lines.append("  input: \(provenance.input) (sha256 \(provenance.inputSHA256))")
            if let mask = provenance.mask { lines.append("  mask: \(mask) (sha256 \(provenance.maskSHA256 ?? "?"))") }
            lines.append("  resume key: \(provenance.key)")
            return lines.joined(separator: "\n")
        }

        static func json(_ file: String, _ header: ImageHeader) -> String {
            struct Entry: Encodable {
                let file: String
                let format: String
                let width: Int
                let height: Int
                let channels: Int
                let bitDepth: Int
                let iccProfileBytes: Int?
                let iccDescription: String?
                let provenance: Provenance?

                enum CodingKeys: String, CodingKey {
                    case file, format, width, height, channels, provenance
                    case bitDepth = "bit_depth", iccProfileBytes = "icc_profile_bytes", iccDescription = "icc_description"
                }
            }
            let entry = Entry(file: file, format: header.format.rawValue, width: header.width, height: header.height,
                              channels: header.channels, bitDepth: header.bitDepth, iccProfileBytes: header.metadata.iccProfile?.count,
                              iccDescription: header.metadata.iccDescription, provenance: Provenance.parse(header.metadata.text))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(entry)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }
}
