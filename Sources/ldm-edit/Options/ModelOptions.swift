import ArgumentParser
import Foundation
import LDMModels
import LDMPipelines

/// Which diffusion model to use and how to sample it.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Model: a CompVis .ckpt, a diffusers folder or an ldm-edit .safetensors (see `ldm-edit inspect`).",
        valueName: "path"))
    var model: String?

    @Flag(name: .customLong("no-ema"), help: "Use the raw weights even when EMA weights are present.")
    var noEMA = false

    @Option(help: ArgumentHelp("Sampler: ddim (the references'), dpmpp-2m (DPM-Solver++(2M), good in 15-25 steps) or ddpm (all 1000 steps).", valueName: "sampler"))
    var sampler: SamplerKind = .ddim

    @Option(help: "Sampling steps (DDIM and DPM-Solver; DDPM always takes 1000).")
    var steps: Int = 50

    @Option(help: "DDIM eta: 0 is deterministic given the seed, 1 adds fresh noise every step.")
    var eta: Float = 0

    @Option(help: ArgumentHelp("Seed; the same seed gives the same result as torch.manual_seed(seed) in the Python reference. Random (and printed) when omitted."))
    var seed: UInt64?

    func validate() throws {
        guard (1...1000).contains(steps) else { throw ValidationError("--steps must be 1-1000, got \(steps).") }
        guard eta >= 0, eta <= 1 else { throw ValidationError("--eta must be between 0 and 1, got \(eta).") }
        if let model, !FileManager.default.fileExists(atPath: model) {
            throw ValidationError("--model \(model): no such file or folder.")
        }
    }

    /// Settings for the pipelines.
    func settings(_ reporter: Reporter) -> SamplingSettings {
        SamplingSettings(sampler: sampler, steps: steps, eta: eta, seed: resolvedSeed(reporter))
    }

    /// The seed to use: the given one, or a fresh random one that is reported so the run can be repeated.
    func resolvedSeed(_ reporter: Reporter) -> UInt64 {
        if let seed { return seed }
        let chosen = UInt64.random(in: 0..<(1 << 53))
        reporter.status("seed \(chosen) (pass --seed \(chosen) to repeat this result)")
        return chosen
    }

    /// The provenance template for a diffusion run: model name and hash, sampler settings.
    /// Hashing reads the whole model once (about as long as loading it).
    func provenance(task: String, modelPath: String, settings: SamplingSettings, reporter: Reporter) throws -> Provenance {
        let sha: String
        do { sha = try Provenance.sha256(ofModel: modelPath) } catch {
            reporter.error("\(error)")
            throw ExitCode(1)
        }
        return Provenance(version: LDMEdit.version, task: task, model: (modelPath as NSString).lastPathComponent, modelSHA256: sha,
                          sampler: sampler.rawValue, steps: sampler == .ddpm ? 1000 : steps, eta: sampler == .ddim ? eta : nil,
                          seed: settings.seed, seedGiven: seed != nil, tiling: "none", options: noEMA ? ["weights": "raw"] : [:])
    }

    /// The model to use: --model, or the default model for `task` found by `ModelLocator`.
    func resolvedModel(for task: ModelTask) -> String? {
        model ?? ModelLocator.defaultModel(for: task).path
    }

    /// Loads and checks the model for `task`, or reports why not.
    func load(for task: ModelTask, reporter: Reporter) throws -> (ModelWeights, LatentDiffusionModel) {
        guard let model = resolvedModel(for: task) else {
            let searched = ModelLocator.defaultModel(for: task).searched
            reporter.error("no \(task.rawValue) model: pass --model, or put \(ModelLocator.fileName(for: task)) in one of: \(searched.joined(separator: ", ")) (LDM_EDIT_MODELS sets the first)")
            throw ExitCode(1)
        }
        do {
            let weights = try ModelWeights.open(model, useEMA: !noEMA)
            try weights.require(task: task)
            return (weights, try LatentDiffusionModel(weights: weights))
        } catch {
            reporter.error(UserMessage.describe(error))
            throw ExitCode(1)
        }
    }
}
