/// One parameter a model needs: its canonical name and shape, and where a diffusers file keeps it.
///
/// Canonical names are the CompVis module paths (the reference the shapes and formulas come from)
/// under a component prefix: `unet.` for `model.diffusion_model.`, `vq.` for `first_stage_model.`.
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let diffusers: DiffusersSource
}

/// Where diffusers stores a canonical parameter (docs/ldm-spec.md §6.2–6.3).
public enum DiffusersSource: Sendable, Equatable {
    /// The same elements under another name (and possibly shape: Linear [C, C] for a 1x1 conv's
    /// [C, C, 1] or [C, C, 1, 1]). `names` lists the accepted spellings, current first.
    case tensor(names: [String])
    /// CompVis' fused qkv, grouped per head as [q_h; k_h; v_h] (QKVAttentionLegacy), from separate
    /// to_q / to_k / to_v (or query / key / value) tensors whose head h is rows [h·d, (h+1)·d).
    case fusedQKV(q: [String], k: [String], v: [String], heads: Int)
}

extension ParameterSpec {
    /// The file names diffusers may use for it (for a fused qkv, the query's).
    var diffusersNames: [String] {
        switch diffusers {
        case .tensor(let names): names
        case .fusedQKV(let q, _, _, _): q
        }
    }
}
