/// Where a module lives in each naming: its canonical name (component prefix + CompVis or PyTorch
/// module path, `unet.input_blocks.1.0`) and its name in a diffusers file (`down_blocks.0.resnets.0`),
/// or, for CompVis' fused attention projection, the separate diffusers modules it is made from.
///
/// A layout builds every path by `child` steps from its component's root, so each segment of a
/// checkpoint key is written once, where the walk (or the block type) places that module.
public struct ModulePath: Sendable, Equatable {
    /// How a diffusers (or PyTorch) file names the module's tensors.
    public enum Diffusers: Sendable, Equatable {
        /// Under these module names, current spelling first (`to_out.0`, then the old `proj_attn`).
        case module([String])
        /// CompVis' qkv, grouped per head as [q_h; k_h; v_h] (QKVAttentionLegacy), from diffusers'
        /// separate q, k, v modules (each with its spellings) whose head h is rows [h·d, (h+1)·d).
        case fusedQKV(q: [String], k: [String], v: [String], heads: Int)
    }

    /// The canonical module name, component prefix included (`unet.out.2`).
    public let name: String
    public let diffusers: Diffusers

    public init(name: String, diffusers: Diffusers) {
        self.name = name
        self.diffusers = diffusers
    }

    /// A component's root: the prefix without its dot canonically, nothing in diffusers.
    public static func root(prefix: String) -> ModulePath {
        ModulePath(name: String(prefix.dropLast()), diffusers: .module([""]))
    }

    /// The diffusers name of the module, under which its output is traced (the conv autoencoder's
    /// "diffusers" names are its PyTorch paths).
    public var trace: String {
        switch diffusers {
        case .module(let names): names.first ?? name
        case .fusedQKV(let q, _, _, _): q.first ?? name
        }
    }

    /// A submodule: `name` below this one canonically, `diffusers` (and its older spellings) below
    /// this module's current diffusers name.
    public func child(_ name: String, _ diffusers: [String]) -> ModulePath {
        ModulePath(name: self.name + "." + name, diffusers: .module(diffusers.map { Self.join(trace, $0) }))
    }

    public func child(_ name: String, _ diffusers: String) -> ModulePath { child(name, [diffusers]) }

    /// A submodule with the same path in both namings (VQ `conv_in`, the conv autoencoder's modules).
    public func child(_ name: String) -> ModulePath { child(name, [name]) }

    /// CompVis' fused `qkv` below this attention module, from diffusers' q, k and v below it.
    func fusedQKV(_ name: String, heads: Int) -> ModulePath {
        let names = { (spellings: [String]) in spellings.map { Self.join(self.trace, $0) } }
        return ModulePath(name: self.name + "." + name, diffusers: .fusedQKV(
            q: names(DiffusersAttention.q), k: names(DiffusersAttention.k), v: names(DiffusersAttention.v), heads: heads))
    }

    /// The parameter `leaf` (`weight`, `bias`) of this module with its canonical shape.
    func parameter(_ leaf: String, _ shape: [Int]) -> ParameterSpec {
        let source: DiffusersSource = switch diffusers {
        case .module(let names): .tensor(names: names.map { $0 + "." + leaf })
        case .fusedQKV(let q, let k, let v, let heads):
            .fusedQKV(q: q.map { $0 + "." + leaf }, k: k.map { $0 + "." + leaf }, v: v.map { $0 + "." + leaf }, heads: heads)
        }
        return ParameterSpec(name: name + "." + leaf, shape: shape, diffusers: source)
    }

    private static func join(_ parent: String, _ child: String) -> String { parent.isEmpty ? child : parent + "." + child }
}

/// diffusers' `Attention` module names (docs/ldm-spec.md §6.3), current spelling first: the U-Net's and the
/// VQ autoencoder's attention blocks both map onto them.
enum DiffusersAttention {
    static let norm = "group_norm"
    static let q = ["to_q", "query"]
    static let k = ["to_k", "key"]
    static let v = ["to_v", "value"]
    static let out = ["to_out.0", "proj_attn"]
}
