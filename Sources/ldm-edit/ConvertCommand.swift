import ArgumentParser
import Foundation
import LDMModels

extension LDMEdit {
    /// `ldm-edit convert`: any supported checkpoint to one canonical .safetensors file.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a checkpoint to a single .safetensors file with canonical names and its config.",
            discussion: """
                The result loads with --model like the original, with no detection or translation. \
                f16/bf16 halve the size and the memory (16-bit weights stay 16-bit, widened per layer). \
                A Stable Diffusion model keeps its text encoder, scheduler and tokenizer files.
                """)

        enum DType: String, ExpressibleByArgument, CaseIterable { case f32, f16, bf16 }

        @Argument(help: ArgumentHelp("Checkpoint file or diffusers folder.", valueName: "input"))
        var input: String

        @Argument(help: ArgumentHelp("Output .safetensors file.", valueName: "output"))
        var output: String

        @Option(help: "Element type of the written tensors.")
        var dtype: DType = .f32

        @Flag(name: .customLong("no-ema"), help: "Use the raw weights even when EMA weights are present.")
        var noEMA = false

        func validate() throws {
            guard output.lowercased().hasSuffix(".safetensors") else {
                throw ValidationError("\(output): the output must be a .safetensors file.")
            }
            let a = URL(fileURLWithPath: input).standardizedFileURL.path, b = URL(fileURLWithPath: output).standardizedFileURL.path
            guard a != b else { throw ValidationError("\(output): the output would overwrite the input.") }
        }

        func run() throws {
            let reporter = Reporter()
            do {
                let model = try ModelWeights.open(input, useEMA: !noEMA)
                try model.export(to: output, dtype: SafetensorsWriter.OutputType(rawValue: dtype.rawValue) ?? .f32)
                reporter.status("\(input) → \(output): \(model.task.rawValue) model, \(model.parameterCount) parameters, \(dtype.rawValue)"
                                + (model.emaPresent ? (model.emaUsed ? ", EMA weights" : ", raw weights") : ""))
            } catch {
                reporter.error(UserMessage.describe(error))
                throw ExitCode(1)
            }
        }
    }
}
