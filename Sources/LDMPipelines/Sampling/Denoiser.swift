import LDMTensor

/// What a sampler evaluates: the model's prediction at (x_t, t), the noise ε or, for a v-prediction
/// model, the velocity v (the sampler's `prediction` says which; each sampler turns v into what its
/// update needs with its diffusers scheduler's own formula, so the arithmetic, rounding included, is the
/// reference's: a v → ε conversion here, before the sampler, would need ᾱ at the Euler samplers'
/// fractional timesteps and round differently). A sampler calls it as often as
/// its method needs (DDIM, DPM-Solver++(2M) and DDPM once per step; Heun/DPM2-style steps twice), so
/// whatever sits between the sampler and the U-Net lives in a denoiser, not in the samplers or the
/// loop: the concatenated conditioning and the per-step U-Net tiles (`ModelDenoiser`), a
/// classifier-free guidance mix of two evaluations (diffusers `pipeline_stable_diffusion.py`:
/// ε_u + s·(ε_c − ε_u), the same mix for v as diffusers applies it to the raw output).
///
/// Contract: `x` is not modified; the result has x's shape and may come from `workspace`'s pool (it
/// stays valid while the caller holds it; later calls do not reuse a held tensor). One workspace is
/// used from one thread, so a denoiser runs on the caller's thread and parallelises inside.
public protocol Denoiser: Sendable {
    /// ε (or v) predicted for `x` at the U-Net timestep `timestep` (a grid timestep for the samplers here;
    /// fractional for samplers that evaluate between grid points).
    /// - x: [N, z, h, w] → ε or v: [N, z, h, w]
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor
}

extension Denoiser {
    /// `noise`, checked to have x's shape: the samplers read ε and x with one index, so a denoiser
    /// returning another shape is refused before any element is read.
    /// - x: [N, z, h, w] → ε: [N, z, h, w]
    func checkedNoise(_ x: Tensor, timestep: Float, workspace: Workspace, sampler: String) throws -> Tensor {
        let eps = try noise(x, timestep: timestep, workspace: workspace)
        guard eps.shape == x.shape else {
            throw TensorError.shapeMismatch(operation: sampler, argument: "ε from the denoiser", expected: "\(x.shape) (x's shape)",
                                            actual: eps.shape)
        }
        return eps
    }
}
