import LDMTensor

/// openaimodel `Upsample` (conv_resample, docs/ldm-spec.md §2.4): nearest ×2, then a 3x3 conv, key `conv`
/// (diffusers `Upsample2D.conv`). - x: [N, C, H, W] → [N, C, 2H, 2W]
struct Upsample: UNetLayer {
    struct Layout: UNetLayerLayout {
        let conv: ConvolutionSpec

        init(_ path: ModulePath, channels c: Int) {
            conv = .same(path.child("conv"), input: c, output: c, kernel: 3)
        }

        var parameters: [ParameterSpec] { conv.parameters }

        func build(_ weights: any WeightProvider) throws -> any UNetLayer { Upsample(conv: try Conv2dLayer(weights, conv)) }
    }

    let conv: Conv2dLayer

    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor {
        try conv(try ResBlock.upsample(x, ws), ws)
    }
}
