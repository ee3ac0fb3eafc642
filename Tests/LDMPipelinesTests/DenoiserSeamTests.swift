import Foundation
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// A classifier-free guidance mix written so that scale 1 is the conditional prediction bit for bit:
/// ε_c + (s − 1)·(ε_c − ε_u) (diffusers pipeline_stable_diffusion.py writes ε_u + s·(ε_c − ε_u), equal
/// in exact arithmetic). Two evaluations of the model per call of the sampler.
struct GuidanceMixDenoiser<Conditional: Denoiser, Unconditional: Denoiser>: Denoiser {
    let conditional: Conditional
    let unconditional: Unconditional
    let scale: Float

    /// - x: [N, z, h, w] → ε: [N, z, h, w]
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        let c = try conditional.noise(x, timestep: timestep, workspace: workspace)
        let u = try unconditional.noise(x, timestep: timestep, workspace: workspace)
        let out = try workspace.tensor(x.shape)
        for i in 0..<x.count { out.data[i] = c.data[i] + (scale - 1) * (c.data[i] - u.data[i]) }
        return out
    }
}

/// A denoiser that answers with the wrong shape.
struct WrongShapeDenoiser: Denoiser {
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        try Tensor.zeros([1, x.shape[1] + 1, x.shape[2], x.shape[3]])
    }
}

/// The denoiser seam on the tiny SR parity model: every sampler evaluates the model only through the
/// denoiser it is handed (wrappers are honoured), progress follows evaluations, errors are typed.
@Suite struct DenoiserSeamTests {
    let weights: ModelWeights
    let model: LatentDiffusionModel

    init() throws {
        weights = try ModelWeights.open(ParityFixture.root + "/sr")
        model = try LatentDiffusionModel(weights: weights)
    }

    /// Every sampler the pipelines build (η 1 so DDIM draws from the generator too), DDPM on a
    /// 50-step schedule to stay quick.
    func samplers() -> [(name: String, sampler: any DiffusionSampler)] {
        let setup = SamplingSetup(weights, defaultSetAlphaToOne: true)
        let compVis = NoiseSchedule(weights.schedule, precision: .compVis)
        var short = weights.schedule
        short.timesteps = 50
        return [("DDIM diffusers", setup.sampler(SamplingSettings(sampler: .ddim, steps: 6, eta: 1, seed: 3))),
                ("DDIM CompVis", DDIMSampler(schedule: compVis, steps: 5, eta: 0, convention: .compVis)),
                ("DPM-Solver++(2M)", setup.sampler(SamplingSettings(sampler: .dpmpp2m, steps: 6, seed: 3))),
                ("DDPM", DDPMSampler(short))]
    }

    /// [1, 3, h, w] low-res image in [−1, 1] and a [1, z, h, w] initial latent, deterministic.
    func inputs(height h: Int = 8, width w: Int = 12) throws -> (conditioning: Tensor, latent: Tensor) {
        let z = model.firstStage.latentChannels
        let conditioning = try Tensor(shape: [1, 3, h, w], values: (0..<(3 * h * w)).map { sin(Float($0) * 0.37) * 0.8 })
        var generator = TorchGenerator(seed: 11)
        return (conditioning, try Tensor(shape: [1, z, h, w], values: generator.normal(z * h * w)))
    }

    /// The sample `sampler` makes from a copy of `latent` with `denoiser`, and the progress reported.
    static func sample(_ sampler: any DiffusionSampler, _ latent: Tensor, _ denoiser: some Denoiser) throws
        -> (bits: [UInt32], progress: [[Int]]) {
        var sampler = sampler
        let x = try latent.copy()
        var generator = TorchGenerator(seed: 5)
        let log = StepLog()
        try sampler.sample(x, denoiser: denoiser, generator: &generator, workspace: Workspace(), callbacks: log.callbacks)
        return (x.values.map(\.bitPattern), log.entries)
    }

    /// Guidance at scale 1 equals the unguided run bit for bit for every sampler, while each sampler
    /// call made both model evaluations; scale 2 changes the result (the mix is used, not bypassed).
    @Test func aGuidanceWrapperIsHonouredByEverySampler() throws {
        let (cond, latent) = try inputs()
        let plain = ModelDenoiser(model: model, conditioning: cond, tiling: .standard)
        let unconditional = ModelDenoiser(model: model, conditioning: try Tensor.zeros(cond.shape), tiling: .standard)
        for (name, sampler) in samplers() {
            let reference = try Self.sample(sampler, latent, plain)
            let c = CountingDenoiser(plain), u = CountingDenoiser(unconditional)
            let guided = try Self.sample(sampler, latent, GuidanceMixDenoiser(conditional: c, unconditional: u, scale: 1))
            #expect(guided.bits == reference.bits, "\(name): scale 1 must be the unguided result bit for bit")
            #expect(c.count == sampler.evaluationCount && u.count == sampler.evaluationCount, "\(name): \(c.count), \(u.count)")
            #expect(guided.progress.last == [sampler.evaluationCount, sampler.evaluationCount], "\(name)")
            let strong = try Self.sample(sampler, latent, GuidanceMixDenoiser(conditional: plain, unconditional: unconditional, scale: 2))
            #expect(strong.bits != reference.bits, "\(name)")
        }
    }

    /// Tiles stay inside the denoiser: a tiled ModelDenoiser wrapped in a counter gives the same bits
    /// as unwrapped, one sampler call per step (the tiles are not the sampler's business).
    @Test func tilingStaysInsideTheDenoiser() throws {
        let (cond, latent) = try inputs(height: 20, width: 28)
        let tiled = ModelDenoiser(model: model, conditioning: cond, tiling: TilingSettings(unetTile: 16, unetOverlap: 8, vqTile: 12, vqOverlap: 4))
        #expect(tiled.grid.tiles.count > 1)
        for (name, sampler) in samplers() where !name.hasPrefix("DDPM") {
            let counting = CountingDenoiser(tiled)
            #expect(try Self.sample(sampler, latent, counting).bits == (try Self.sample(sampler, latent, tiled).bits), "\(name)")
            #expect(counting.count == sampler.stepCount, "\(name)")
        }
    }

    /// The pipelines' loop, unchanged, runs a two-evaluation sampler: progress in evaluations
    /// (2, 4, …, and 1 for the Euler last step), cancellation between steps.
    @Test func progressCountsEvaluationsOfATwoEvaluationSampler() throws {
        let (cond, _) = try inputs()
        let schedule = NoiseSchedule(weights.schedule, precision: .diffusers)
        let counting = CountingDenoiser(ModelDenoiser(model: model, conditioning: cond, tiling: .standard))
        var loop = DiffusionLoop(model: model, sampler: HeunTestSampler(schedule: schedule, steps: 4))
        let log = StepLog()
        let image = try loop.run(counting, latentShape: [1, model.firstStage.latentChannels, 8, 12],
                                 settings: SamplingSettings(steps: 4, seed: 1), callbacks: log.callbacks, workspace: Workspace())
        #expect(log.entries == [[2, 7], [4, 7], [6, 7], [7, 7]] && counting.count == 7)
        let f = model.firstStage.downsamplingFactor
        #expect(image.shape == [1, 3, 8 * f, 12 * f] && image.values.allSatisfy(\.isFinite))

        let stopping = StepLog(stopAfter: 2)
        let counted = CountingDenoiser(ModelDenoiser(model: model, conditioning: cond, tiling: .standard))
        #expect(throws: PipelineError.cancelled) {
            _ = try loop.run(counted, latentShape: [1, model.firstStage.latentChannels, 8, 12],
                             settings: SamplingSettings(steps: 4, seed: 1), callbacks: stopping.callbacks, workspace: Workspace())
        }
        #expect(stopping.entries == [[2, 7]] && counted.count == 2)
    }

    /// The single-evaluation samplers report (step, steps), as before the seam.
    @Test func progressOfOneEvaluationSamplersIsTheStep() throws {
        let (cond, latent) = try inputs()
        let plain = ModelDenoiser(model: model, conditioning: cond, tiling: .standard)
        for (name, sampler) in samplers() {
            let n = sampler.stepCount
            #expect(sampler.evaluationCount == n)
            #expect(try Self.sample(sampler, latent, plain).progress == (1...n).map { [$0, n] }, "\(name)")
        }
    }

    /// A sampler instance run twice gives the same sample (DPM-Solver++ restarts its history at step 0).
    @Test func samplersCanBeRunAgain() throws {
        let (cond, latent) = try inputs()
        let plain = ModelDenoiser(model: model, conditioning: cond, tiling: .standard)
        for (name, sampler) in samplers() {
            var reused = sampler
            var generator = TorchGenerator(seed: 5)
            try reused.sample(try latent.copy(), denoiser: plain, generator: &generator, workspace: Workspace())
            #expect(try Self.sample(reused, latent, plain).bits == (try Self.sample(sampler, latent, plain).bits), "\(name)")
        }
    }

    @Test func wrongShapesAndStepsAreTypedErrors() throws {
        let (_, latent) = try inputs()
        for (name, sampler) in samplers() {
            var s = sampler
            var generator = TorchGenerator(seed: 1)
            let shape = #expect(throws: TensorError.self, "\(name)") {
                try s.step(0, x: latent, denoiser: WrongShapeDenoiser(), generator: &generator, workspace: Workspace())
            }
            guard case .shapeMismatch(_, "ε from the denoiser", _, let actual) = shape, actual == [1, latent.shape[1] + 1, 8, 12] else {
                Issue.record("\(name): \(String(describing: shape))")
                continue
            }
            let step = #expect(throws: TensorError.self, "\(name)") {
                try s.step(s.stepCount, x: latent, denoiser: WrongShapeDenoiser(), generator: &generator, workspace: Workspace())
            }
            guard case .invalidArgument = step else {
                Issue.record("\(name): \(String(describing: step))")
                continue
            }
        }
    }
}

/// Progress calls as [done, total]; optionally asks to stop once `stopAfter` evaluations are done.
final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [[Int]] = []
    let stopAfter: Int?

    init(stopAfter: Int? = nil) { self.stopAfter = stopAfter }

    var entries: [[Int]] { lock.withLock { log } }

    var callbacks: PipelineCallbacks {
        PipelineCallbacks(progress: { done, total in self.lock.withLock { self.log.append([done, total]) } },
                          isCancelled: { self.stopAfter.map { limit in (self.entries.last?[0] ?? 0) >= limit } ?? false })
    }
}
