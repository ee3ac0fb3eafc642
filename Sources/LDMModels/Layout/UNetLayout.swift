/// The structure of a `UNetConfig`, walked once (openaimodel.py `UNetModel.__init__`; diffusers
/// names per docs/ldm-spec.md §6.3): every block in run order with its CompVis and diffusers paths and the
/// widths that give its shapes. The parameter list (and so the audit, the diffusers mapping and
/// config detection), the model's construction and its trace names are all read off this walk;
/// block indices are numbered here and nowhere else, and each block type writes its own
/// submodules' names once, in its `Layout` (Blocks/).
public struct UNetLayout: Sendable {
    public static let prefix = "unet."

    /// A layer of a block and the diffusers name its output is traced under (nil: not traced on its
    /// own — the upsamplers and the mid block's layers, whose outputs their level traces).
    struct Layer: Sendable {
        let layout: any UNetLayerLayout
        let trace: String?
    }

    /// `input_blocks.i` / `middle_block` / `output_blocks.i`: a TimestepEmbedSequential's layers in
    /// order. The U-Net pushes each input block's output onto the skip stack and pops one skip,
    /// concatenated after h, before each output block.
    struct Block: Sendable {
        let layers: [Layer]
    }

    /// A resolution level's blocks (or the mid block), its output traced as a whole under `trace`
    /// (`down_blocks.l`, `mid_block`, `up_blocks.u`).
    struct Level: Sendable {
        let trace: String
        let blocks: [Block]
    }

    public let config: UNetConfig
    /// `time_embed.0` and `time_embed.2` (SiLU between), traced together as `time_embedding`.
    let timeEmbedding: (path: ModulePath, linear1: LinearSpec, linear2: LinearSpec)
    /// `label_emb` (diffusers `class_embedding`) [classes, 4·modelChannels], when the config has class embeddings.
    let classEmbedding: EmbeddingSpec?
    let convIn: ConvolutionSpec
    /// Levels 0 … L−1, each ending with its downsampler except the last.
    let down: [Level]
    let middle: Level
    /// From the lowest resolution up: up_blocks.u holds level L−1−u, ending with an upsampler except the last.
    let up: [Level]
    let outNorm: GroupNormSpec
    let outConv: ConvolutionSpec

    public init(_ c: UNetConfig) {
        config = c
        let root = ModulePath.root(prefix: Self.prefix)
        let time = root.child("time_embed", "time_embedding")
        timeEmbedding = (time, LinearSpec(time.child("0", "linear_1"), input: c.modelChannels, output: c.timeEmbedChannels),
                         LinearSpec(time.child("2", "linear_2"), input: c.timeEmbedChannels, output: c.timeEmbedChannels))
        classEmbedding = c.classEmbeddings.map { EmbeddingSpec(root.child("label_emb", "class_embedding"), count: $0, dimension: c.timeEmbedChannels) }
        convIn = .same(root.child("input_blocks.0.0", "conv_in"), input: c.inChannels, output: c.modelChannels, kernel: 3)
        func traced(_ layout: any UNetLayerLayout, _ path: ModulePath) -> Layer { Layer(layout: layout, trace: path.trace) }
        /// openaimodel's `AttentionBlock`, or `SpatialTransformer` where the config has cross-attention; `level` nil: the mid block.
        func attentionLayout(_ path: ModulePath, _ ch: Int, level: Int?) -> any UNetLayerLayout {
            if let cross = c.crossAttention {
                return SpatialTransformer.Layout(path, channels: ch, config: c, cross: cross, onlyCross: cross.onlyCross(level: level))
            }
            return AttentionBlock.Layout(path, channels: ch, config: c)
        }
        func attention(_ path: ModulePath, _ level: Int, _ ch: Int) -> Layer? {
            c.attentionLevels.contains(level) ? traced(attentionLayout(path, ch, level: level), path) : nil
        }

        let levels = c.channelMult.count
        var ch = c.modelChannels
        var skips = [ch]
        var index = 0
        var down: [Level] = []
        for level in 0..<levels {
            let d = "down_blocks.\(level)"
            var blocks: [Block] = []
            /// Appends the next input block, its layers made at its path; its output joins the skip stack.
            func input(_ layers: (ModulePath) -> [Layer]) {
                index += 1
                blocks.append(Block(layers: layers(root.child("input_blocks.\(index)", d))))
                skips.append(ch)
            }
            for j in 0..<c.numResBlocks {
                input { block in
                    let res = block.child("0", "resnets.\(j)"), out = c.width(level: level)
                    var layers = [traced(ResBlock.Layout(res, in: ch, out: out, config: c), res)]
                    ch = out
                    if let attention = attention(block.child("1", "attentions.\(j)"), level, ch) { layers.append(attention) }
                    return layers
                }
            }
            if level != levels - 1 {
                input { block in
                    let path = block.child("0", "downsamplers.0")
                    return [traced(c.resblockUpdown ? ResBlock.Layout(path, in: ch, out: ch, resample: .down, config: c)
                                                    : Downsample.Layout(path, channels: ch), path)]
                }
            }
            down.append(Level(trace: d, blocks: blocks))
        }
        self.down = down

        let mid = root.child("middle_block", "mid_block")
        middle = Level(trace: mid.trace, blocks: [Block(layers: [
            Layer(layout: ResBlock.Layout(mid.child("0", "resnets.0"), in: ch, out: ch, config: c), trace: nil),
            Layer(layout: attentionLayout(mid.child("1", "attentions.0"), ch, level: nil), trace: nil),
            Layer(layout: ResBlock.Layout(mid.child("2", "resnets.1"), in: ch, out: ch, config: c), trace: nil),
        ])])

        index = 0
        var up: [Level] = []
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let u = "up_blocks.\(levels - 1 - level)"
            var blocks: [Block] = []
            for j in 0...c.numResBlocks {
                let block = root.child("output_blocks.\(index)", u)
                let res = block.child("0", "resnets.\(j)"), out = c.width(level: level)
                var layers = [traced(ResBlock.Layout(res, in: ch + skips.removeLast(), out: out, config: c), res)]
                ch = out
                if let attention = attention(block.child("1", "attentions.\(j)"), level, ch) { layers.append(attention) }
                if level != 0, j == c.numResBlocks {
                    let upsampler = block.child("\(layers.count)", "upsamplers.0")
                    layers.append(Layer(layout: c.resblockUpdown
                        ? ResBlock.Layout(upsampler, in: ch, out: ch, resample: .up, config: c)
                        : Upsample.Layout(upsampler, channels: ch), trace: nil))
                }
                blocks.append(Block(layers: layers))
                index += 1
            }
            up.append(Level(trace: u, blocks: blocks))
        }
        self.up = up
        outNorm = GroupNormSpec(root.child("out.0", "conv_norm_out"), channels: ch, groups: c.normGroups, eps: c.normEps)
        outConv = .same(root.child("out.2", "conv_out"), input: ch, output: c.outChannels, kernel: 3)
    }

    /// The canonical parameter list in module order, with diffusers names.
    public var parameters: [ParameterSpec] {
        let layers = (down + [middle] + up).flatMap { $0.blocks.flatMap(\.layers) }
        return timeEmbedding.linear1.parameters + timeEmbedding.linear2.parameters + (classEmbedding?.parameters ?? []) + convIn.parameters
            + layers.flatMap(\.layout.parameters) + outNorm.parameters + outConv.parameters
    }

    public static func parameters(_ c: UNetConfig) -> [ParameterSpec] { UNetLayout(c).parameters }
}
