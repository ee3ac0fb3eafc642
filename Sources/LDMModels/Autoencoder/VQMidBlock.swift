import LDMTensor

/// The VQ encoder's and decoder's mid block: ResnetBlock, AttnBlock (absent in vq-f4-noattn),
/// ResnetBlock (diffusers `UNetMidBlock2D`). - x: [N, C, H, W] → [N, C, H, W]
struct VQMidBlock: Sendable {
    struct Layout: Sendable {
        let block1: VQResnetBlock.Layout, attention: VQAttentionBlock.Layout?, block2: VQResnetBlock.Layout

        init(_ path: ModulePath, channels c: Int, config: AutoencoderConfig) {
            block1 = VQResnetBlock.Layout(path.child("block_1", "resnets.0"), in: c, out: c, config: config)
            attention = config.midAttention ? VQAttentionBlock.Layout(path.child("attn_1", "attentions.0"), channels: c, config: config) : nil
            block2 = VQResnetBlock.Layout(path.child("block_2", "resnets.1"), in: c, out: c, config: config)
        }

        var parameters: [ParameterSpec] { block1.parameters + (attention?.parameters ?? []) + block2.parameters }
    }

    let block1: VQResnetBlock, attention: VQAttentionBlock?, block2: VQResnetBlock

    init(_ weights: any WeightProvider, _ layout: Layout) throws {
        block1 = try VQResnetBlock(weights, layout.block1)
        attention = try layout.attention.map { try VQAttentionBlock(weights, $0) }
        block2 = try VQResnetBlock(weights, layout.block2)
    }

    func callAsFunction(_ x: Tensor, _ ws: Workspace) throws -> Tensor {
        var h = try block1(x, ws)
        if let attention { h = try attention(h, ws) }
        return try block2(h, ws)
    }
}
