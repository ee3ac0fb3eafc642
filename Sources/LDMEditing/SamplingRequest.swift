import LDMPipelines

/// How the diffusion model is sampled: sampler, steps, η and seed.
///
/// Values are normalised to what they mean: DDPM always takes 1000 steps, and η exists only for
/// DDIM (0 elsewhere), so two requests that sample alike are equal and share a resume key.
public struct SamplingRequest: Sendable, Equatable {
    public let sampler: SamplerKind
    public let steps: Int
    /// DDIM's η (0: deterministic given the seed); 0 for the other samplers.
    public let eta: Float
    /// The seed the generator starts from (`torch.manual_seed(seed)` in the references).
    public let seed: UInt64
    /// Whether the seed was asked for. A random seed is recorded but does not enter the resume key:
    /// any seed is then acceptable.
    public let seedGiven: Bool

    /// The common step count (`SamplingDefault.commonSteps`); a model's own default is its `SamplingDefault`.
    public static let defaultSteps = SamplingDefault.commonSteps
    /// DDPM visits every timestep of the schedule.
    public static let ddpmSteps = 1000
    /// The most steps a request may ask for (the schedules' 1000 timesteps).
    public static let maximumSteps = 1000

    /// - seed: nil draws a random one (`randomSeed()`).
    public init(sampler: SamplerKind = .ddim, steps: Int = defaultSteps, eta: Float = 0, seed: UInt64?) throws(RequestError) {
        try self.init(sampler: sampler, steps: steps, eta: eta, seed: seed ?? Self.randomSeed(), seedGiven: seed != nil)
    }

    /// A random seed below 2^53, so it survives a round trip through any JSON reader's numbers.
    public static func randomSeed() -> UInt64 { UInt64.random(in: 0..<(1 << 53)) }

    /// A seed drawn elsewhere (a server draws a random one at submission, to show it at once): `seedGiven` false keeps it
    /// out of the resume key as a random seed.
    public init(sampler: SamplerKind, steps: Int, eta: Float, seed: UInt64, seedGiven: Bool) throws(RequestError) {
        guard (1...Self.maximumSteps).contains(steps) else { throw .steps(steps) }
        guard eta >= 0, eta <= 1 else { throw .eta(eta) }
        self.sampler = sampler
        self.steps = sampler == .ddpm ? Self.ddpmSteps : steps
        self.eta = sampler == .ddim ? eta : 0
        self.seed = seed
        self.seedGiven = seedGiven
    }

    /// The pipelines' settings for one model run under `tiling`.
    func settings(tiling: TilingSettings) -> SamplingSettings {
        SamplingSettings(sampler: sampler, steps: steps, eta: eta, seed: seed, tiling: tiling)
    }
}
