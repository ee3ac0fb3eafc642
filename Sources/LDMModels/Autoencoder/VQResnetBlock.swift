import LDMTensor

/// model.py `ResnetBlock` with temb_channels = 0 (docs/ldm-spec.md §2.6): norm1+SiLU, conv1, norm2+SiLU,
/// conv2, plus the input (through the 1x1 `nin_shortcut` when the width changes).
/// - x: [N, Cin, H, W] → [N, Cout, H, W]
struct VQResnetBlock: Sendable {
    /// The block's submodules; diffusers' `ResnetBlock2D` has the same names but `conv_shortcut`.
    struct Layout: Sendable {
        let norm1: GroupNormSpec, conv1: ConvolutionSpec, norm2: GroupNormSpec, conv2: ConvolutionSpec
        let shortcut: ConvolutionSpec?

        init(_ path: ModulePath, in cin: Int, out cout: Int, config c: AutoencoderConfig) {
            norm1 = GroupNormSpec(path.child("norm1"), channels: cin, groups: c.normGroups, eps: c.normEps)
            conv1 = .same(path.child("conv1"), input: cin, output: cout, kernel: 3)
            norm2 = GroupNormSpec(path.child("norm2"), channels: cout, groups: c.normGroups, eps: c.normEps)
            conv2 = .same(path.child("conv2"), input: cout, output: cout, kernel: 3)
            shortcut = cin == cout ? nil : .same(path.child("nin_shortcut", "conv_shortcut"), input: cin, output: cout, kernel: 1)
        }

        var parameters: [ParameterSpec] {
            norm1.parameters + conv1.parameters + norm2.parameters + conv2.parameters + (shortcut?.parameters ?? [])
        }
    }

    let norm1: GroupNormLayer, conv1: Conv2dLayer, norm2: GroupNormLayer, conv2: Conv2dLayer
    let shortcut: Conv2dLayer?

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        norm1 = try GroupNormLayer(weights, layout.norm1)
        conv1 = try Conv2dLayer(weights, layout.conv1)
        norm2 = try GroupNormLayer(weights, layout.norm2)
        conv2 = try Conv2dLayer(weights, layout.conv2)
        shortcut = try layout.shortcut.map { try Conv2dLayer(weights, $0) }
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        let h = try conv2(try norm2(try conv1(try norm1(x, silu: true, ws), ws), silu: true, ws), ws)
        try Elementwise.add(try shortcut?(x, ws) ?? x, h, into: h)
        return h
    }
}
