import ArgumentParser
import Foundation
import LDMEditing
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

    @Flag(name: .customLong("half-weights"), help: ArgumentHelp(
        "Hold the weights as float16 in memory: a float32 checkpoint is narrowed at load (about half its memory; results change by that rounding, and provenance records it). 16-bit files are held so anyway."))
    var halfWeights = false

    @Option(help: ArgumentHelp("Sampler: ddim, dpmpp-2m (DPM-Solver++(2M), good in 15-25 steps), dpmpp-2m-karras, euler, euler-karras, euler-a (Euler ancestral), pndm (PLMS) or ddpm (all 1000 steps). Default: the model's own (dpmpp-2m-karras for the LDM models, the scheduler of a Stable Diffusion model: pndm for SD 1.x).", valueName: "sampler"))
    var sampler: SamplerKind?

    @Option(help: ArgumentHelp("Sampling steps (DDPM always takes 1000). Default: the model's own with its own sampler (dpmpp-2m-karras: 15 for LDM inpainting, 8 for LDM super-resolution; 75 for the x4 upscaler, 50 for other Stable Diffusion models), else 50.", valueName: "n"))
    var steps: Int?

    @Option(help: "DDIM eta: 0 is deterministic given the seed, 1 adds fresh noise every step.")
    var eta: Float = 0

    @Option(help: ArgumentHelp("Seed; the same seed gives the same result as torch.manual_seed(seed) in the Python reference. Random (and printed) when omitted."))
    var seed: UInt64?

    @Option(name: .customLong("guide-model"), help: ArgumentHelp(
        "Autoguidance: a weaker model of the same task (an earlier or smaller training of --model, on the same first stage) that guides it; each step then goes from the guide's prediction past the model's by --guide-weight. Two model calls per step. The LDM models only.",
        valueName: "path"))
    var guideModel: String?

    @Option(name: .customLong("guide-weight"), help: ArgumentHelp(
        "With --guide-model: w in guide + w·(model − guide); 1 is the model alone. (default: 1.5)", valueName: "w"))
    var guideWeight: Float?

    func validate() throws {
        if let guideWeight {
            guard guideModel != nil else { throw ValidationError("--guide-weight needs --guide-model.") }
            do { _ = try GuideRequest(model: ModelReference(path: "", sha256: ""), weight: guideWeight) } catch { throw ValidationError(UserMessage.describe(error)) }
        }
        if let guideModel, !FileManager.default.fileExists(atPath: guideModel) {
            throw ValidationError("--guide-model \(guideModel): no such file or folder.")
        }
        do { _ = try SamplingRequest(sampler: sampler ?? .ddim, steps: steps ?? SamplingRequest.defaultSteps, eta: eta, seed: 0) } catch { throw ValidationError(UserMessage.describe(error)) }
        if let model, !FileManager.default.fileExists(atPath: model) {
            throw ValidationError("--model \(model): no such file or folder.")
        }
    }

    /// The guide part of the request: the editor's loaded guide at --guide-weight; nil without --guide-model.
    func guide(_ editor: Editor) throws(RequestError) -> GuideRequest? {
        guard let loaded = editor.guide else { return nil }
        return try GuideRequest(model: loaded, weight: guideWeight ?? GuideRequest.defaultWeight)
    }

    /// The sampling part of the request (without --sampler or --steps, the model's own `SamplingDefault`); a random
    /// seed is reported so the run can be repeated, unless `quiet` (-q prints only errors and warnings; the seed is
    /// in the output's provenance either way, which `ldm-edit info` prints).
    func sampling(_ reporter: Reporter, defaults: SamplingDefault, quiet: Bool) throws -> SamplingRequest {
        let chosen = sampler ?? defaults.sampler
        let request = try SamplingRequest(sampler: chosen, steps: steps ?? defaults.steps(for: chosen), eta: eta, seed: seed)
        if !request.seedGiven && !quiet { reporter.status("seed \(request.seed) (pass --seed \(request.seed) to repeat this result)") }
        return request
    }
}
