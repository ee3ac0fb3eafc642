import LDMTensor

/// openaimodel `Downsample` (conv_resample, docs/ldm-spec.md §2.4): a strided 3x3 conv, key `op`
/// (diffusers `Downsample2D.conv`). - x: [N, C, H, W] → [N, C, H/2, W/2]
struct Downsample: UNetLayer {
    struct Layout: UNetLayerLayout {
        let conv: ConvolutionSpec

        init(_ path: ModulePath, channels c: Int) {
            conv = ConvolutionSpec(path.child("op", "conv"), input: c, output: c, kernel: 3, stride: 2, padding: .symmetric(1))
        }

        var parameters: [ParameterSpec] { conv.parameters }

        func build(_ weights: any WeightProvider) throws -> any UNetLayer { Downsample(conv: try Conv2dLayer(weights, conv)) }
    }

    let conv: Conv2dLayer

    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor { try conv(x, ws) }
}
