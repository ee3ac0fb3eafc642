import LDMTensor

/// A sampler of the reverse diffusion: the grid of timesteps it steps along, and how one step
/// moves x_t, calling the `Denoiser` as often as its method needs. Samplers that need noise draw it
/// from the pipeline's one generator stream (`TorchGenerator`), in the order their reference does.
///
/// A new sampler implements `timesteps`, `step(_:x:denoiser:generator:workspace:)` and, when a
/// step evaluates the model more than once, `evaluations(step:)`; `sample` (the whole run, with
/// progress and cancellation) comes with the protocol.
public protocol DiffusionSampler: Sendable {
    /// The grid in sampling order (descending): one entry per step, the U-Net timestep the step
    /// starts from.
    var timesteps: [Int] { get }
    /// Model evaluations step `index` makes (progress is counted in them). Default 1.
    func evaluations(step index: Int) -> Int
    /// One step in place, x ← the next sample, evaluating `denoiser` as the method needs;
    /// `workspace` is passed to it and lends the step's scratch.
    /// - x: [N, z, h, w]
    mutating func step(_ index: Int, x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator,
                       workspace: Workspace) throws
}

extension DiffusionSampler {
    public func evaluations(step index: Int) -> Int { 1 }

    /// `timesteps[index]`, or a typed error for an index outside the grid (the samplers' `step`
    /// entry check: it is public, and the arithmetic indexes arrays with it).
    func timestep(_ index: Int, sampler: String) throws(TensorError) -> Int {
        guard timesteps.indices.contains(index) else {
            throw .invalidArgument(operation: sampler, reason: "step \(index) is outside the \(timesteps.count) steps")
        }
        return timesteps[index]
    }

    /// Model evaluations of the whole run.
    public var evaluationCount: Int { timesteps.indices.reduce(0) { $0 + evaluations(step: $1) } }

    /// The whole run in place: x holds the initial noise at `timesteps[0]` and ends as the sample.
    /// `callbacks.isCancelled` is asked before every step and once after the last (throwing
    /// `PipelineError.cancelled`); `callbacks.progress(done, total)` follows every step, in model
    /// evaluations counted as they are made (for one evaluation per step: the step and the steps).
    /// - x: [N, z, h, w]
    public mutating func sample(_ x: Tensor, denoiser: some Denoiser, generator: inout TorchGenerator, workspace: Workspace,
                                callbacks: PipelineCallbacks = .init()) throws {
        let total = evaluationCount
        let counting = CountingDenoiser(denoiser)
        for index in timesteps.indices {
            if callbacks.isCancelled() { throw PipelineError.cancelled }
            try step(index, x: x, denoiser: counting, generator: &generator, workspace: workspace)
            callbacks.progress(counting.count, total)
        }
        if callbacks.isCancelled() { throw PipelineError.cancelled }
    }
}

/// The sampler choices of the command line.
public enum SamplerKind: String, Sendable, CaseIterable {
    case ddim
    case dpmpp2m = "dpmpp-2m"
    case ddpm
}
