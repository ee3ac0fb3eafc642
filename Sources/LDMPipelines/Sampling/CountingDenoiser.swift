import LDMTensor
import Synchronization

/// A denoiser that counts its calls and otherwise is `base`: `DiffusionSampler.sample` wraps the
/// pipeline's denoiser in one, so progress is reported in model evaluations actually made (a
/// two-evaluation step advances it by two), whatever the sampler.
public final class CountingDenoiser<Base: Denoiser>: Denoiser {
    public let base: Base
    private let calls = Atomic<Int>(0)

    public init(_ base: Base) { self.base = base }

    /// Calls of `noise` so far.
    public var count: Int { calls.load(ordering: .relaxed) }

    /// - x: [N, z, h, w] → ε: [N, z, h, w], `base`'s result itself.
    public func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        calls.add(1, ordering: .relaxed)
        return try base.noise(x, timestep: timestep, workspace: workspace)
    }
}
