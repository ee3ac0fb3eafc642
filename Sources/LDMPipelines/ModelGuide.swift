import Foundation
import LDMModels
import LDMTensor

/// A weaker model of the same task that guides a pipeline's model at sampling time (`Autoguidance`): an earlier, or
/// smaller, training of it. Checked once, when attached (`InpaintingPipeline.guided(by:)`,
/// `SuperResolutionPipeline.guided(by:)`): the same task, no text conditioning, the same U-Net input and output
/// channels and downsampling, the same noise schedule and prediction type, and the same latent space — its first
/// stage encodes a fixed probe image as the model's does (relative difference ≤ `latentTolerance`), since the
/// guide reads latents and a conditioning that the model's first stage makes.
public struct ModelGuide: Sendable {
    public let model: LatentDiffusionModel
    let schedule: NoiseScheduleConfig
    /// w in p_guide + w·(p_model − p_guide); 1 is the model alone.
    public private(set) var weight: Float
    /// The file the guide came from, for messages.
    public let path: String

    /// One first stage held in float32 or float16 differs by rounding (~10⁻³ relative); first stages trained apart
    /// mean different things by their latents, an order of magnitude or more further (AutoguidanceTests).
    public static let latentTolerance: Float = 1e-2

    public init(weights: ModelWeights, model: LatentDiffusionModel, weight: Float) throws {
        guard weight.isFinite else { throw PipelineError.guideMismatch(path: weights.path, reason: "the guidance weight \(weight) is not a number") }
        self.model = model
        schedule = weights.schedule
        self.weight = weight
        path = weights.path
    }

    /// This guide at another weight.
    public func weighted(_ weight: Float) -> ModelGuide {
        var copy = self
        copy.weight = weight
        return copy
    }

    /// Throws `PipelineError.guideMismatch` unless this guide can guide `main` (whose schedule is `schedule`).
    func check(against main: LatentDiffusionModel, schedule mainSchedule: NoiseScheduleConfig) throws {
        func fail(_ reason: String) -> PipelineError { .guideMismatch(path: path, reason: reason) }
        guard model.task == main.task else { throw fail("it is \(model.task.withArticle) model, the model is \(main.task.withArticle) one") }
        guard model.text == nil, main.text == nil else { throw fail("autoguidance runs with the LDM models only, not text-conditioned ones") }
        let (g, m) = (model.unet.config, main.unet.config)
        guard g.inChannels == m.inChannels, g.outChannels == m.outChannels else {
            throw fail("its U-Net maps \(g.inChannels) → \(g.outChannels) channels, the model's \(m.inChannels) → \(m.outChannels)")
        }
        guard g.downsamplingFactor == m.downsamplingFactor else {
            throw fail("its U-Net downsamples by \(g.downsamplingFactor), the model's by \(m.downsamplingFactor)")
        }
        guard schedule.timesteps == mainSchedule.timesteps, schedule.linearStart == mainSchedule.linearStart,
              schedule.linearEnd == mainSchedule.linearEnd else {
            throw fail("its noise schedule (β \(schedule.linearStart)–\(schedule.linearEnd), \(schedule.timesteps) steps) is not the model's "
                       + "(β \(mainSchedule.linearStart)–\(mainSchedule.linearEnd), \(mainSchedule.timesteps) steps)")
        }
        guard schedule.prediction == mainSchedule.prediction else {
            throw fail("it predicts \(schedule.prediction.description), the model \(mainSchedule.prediction.description)")
        }
        let f = main.firstStage.downsamplingFactor
        guard model.firstStage.downsamplingFactor == f, model.firstStage.latentChannels == main.firstStage.latentChannels else {
            throw fail("its first stage (f\(model.firstStage.downsamplingFactor), \(model.firstStage.latentChannels) latent channels) is not "
                       + "the model's (f\(f), \(main.firstStage.latentChannels))")
        }
        let difference = try Self.latentDifference(main.firstStage, model.firstStage, side: 8 * f)
        guard difference <= Self.latentTolerance else {
            throw fail("its first stage encodes differently from the model's (relative difference \(difference) on a probe image): "
                       + "its latents mean something else")
        }
    }

    /// ‖a(probe) − b(probe)‖ / ‖a(probe)‖ for a fixed smooth probe image of side × side pixels.
    static func latentDifference(_ a: FirstStage, _ b: FirstStage, side: Int) throws -> Float {
        let probe = try Tensor(shape: [1, 3, side, side], values: (0..<(3 * side * side)).map { i in
            let (c, y, x) = (Float(i / (side * side)), Float(i / side % side), Float(i % side))
            return 0.8 * sinf(0.37 * x + 0.21 * y + 1.3 * c) * cosf(0.11 * x * y / Float(side) + c)
        })
        let ws = Workspace()
        let za = try a.encode(probe, workspace: ws).copy()
        let zb = try b.encode(probe, workspace: ws)
        var (num, den): (Float, Float) = (0, 0)
        for i in 0..<za.count {
            let d = za.data[i] - zb.data[i]
            num += d * d
            den += za.data[i] * za.data[i]
        }
        return (num / max(den, .leastNormalMagnitude)).squareRoot()
    }
}

extension ModelGuide {
    /// The pipelines' denoiser: the model's own (`main`), autoguided when a guide is attached with a weight other
    /// than 1 (the guide reads the same conditioning on the same tiles).
    static func denoiser(_ main: ModelDenoiser, guide: ModelGuide?, tiling: TilingSettings) -> any Denoiser {
        guard let guide, guide.weight != 1 else { return main }
        return Autoguidance(model: main, guide: ModelDenoiser(model: guide.model, conditioning: main.conditioning, tiling: tiling),
                            weight: guide.weight)
    }
}

/// A pipeline that samples its model through an attached `ModelGuide` (both editing pipelines): attaching checks the
/// guide against the pipeline's model and schedule once; reweighing changes only the weight of the one attached.
protocol ModelGuided {
    var model: LatentDiffusionModel { get }
    var setup: SamplingSetup { get }
    var guide: ModelGuide? { get set }
}

extension ModelGuided {
    func attaching(_ guide: ModelGuide) throws -> Self {
        try guide.check(against: model, schedule: setup.config)
        var copy = self
        copy.guide = guide
        return copy
    }

    func reweighing(_ weight: Float?) -> Self {
        var copy = self
        copy.guide = weight.flatMap { guide?.weighted($0) }
        return copy
    }
}
