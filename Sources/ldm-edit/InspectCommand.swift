import ArgumentParser
import Foundation
import LDMModels
import LDMPipelines

extension LDMEdit {
    /// `ldm-edit inspect`: what a weight file or diffusers folder holds.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a checkpoint: format, task, architecture, parameters, dtypes, EMA, provenance, SHA-256.",
            discussion: """
                Reads CompVis .ckpt files, PyTorch .bin/.pt/.pth, .safetensors and diffusers folders \
                (model_index.json, unet/, vqvae/, vae/ or autoencoder/) without running any code from them.
                """)

        @Argument(help: ArgumentHelp("Checkpoint file or diffusers folder.", valueName: "path"))
        var path: String

        @Flag(name: .customLong("no-ema"), help: "Describe the raw weights even when EMA weights are present.")
        var noEMA = false

        @Flag(name: .customLong("no-hash"), help: "Skip the SHA-256 (it reads the whole file).")
        var noHash = false

        func run() throws {
            let reporter = Reporter()
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                reporter.error("\(path): no such file or folder")
                throw ExitCode(1)
            }
            var files: [String] = []
            if isDirectory.boolValue {
                for component in ["unet", "vqvae", "vae", "autoencoder"] {
                    for name in ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin", "model.safetensors"]
                    where FileManager.default.fileExists(atPath: "\(path)/\(component)/\(name)") {
                        files.append("\(path)/\(component)/\(name)")
                        break
                    }
                }
            } else {
                files = [path]
            }
            var failed = false
            for file in files {
                do {
                    print(CheckpointSummary.describe(try WeightFile.open(file), hash: !noHash).joined(separator: "\n"))
                } catch {
                    reporter.error("\(error)")
                    failed = true
                }
            }
            do {
                let model = try ModelWeights.open(path, useEMA: !noEMA)
                print(CheckpointSummary.describe(model, taskNote: "use `ldm-edit \(model.task.command)`", rawWeightsNote: "--no-ema for the raw weights")
                    .joined(separator: "\n"))
                let sampling = SamplingDefault(for: model)
                print("default sampling: \(sampling.sampler.rawValue), \(sampling.steps) steps (--sampler, --steps)")
                if model.task == .inpainting {
                    let candidates = Candidates.modelDefault(for: model)
                    print("default candidates: " + (candidates.map { "\($0.count)" + ($0.blendsMean ? ", blended with their mean" : "") } ?? "1")
                          + " (--candidates, --[no-]blend-candidates)")
                }
            } catch {
                reporter.error(UserMessage.describe(error))
                failed = true
            }
            if failed { throw ExitCode(1) }
        }
    }
}
