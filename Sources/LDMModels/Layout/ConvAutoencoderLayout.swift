/// The structure of a `ConvAutoencoderConfig`, walked once (Scripts/train/conv_autoencoder.py
/// `Encoder`, `Decoder`, `ResBlock`): every convolution with its PyTorch module path and geometry.
/// The parameter list, the model's construction (`ConvStage`), its trace names and its receptive
/// field are all read off this walk, so each key string is written once, here.
///
/// Canonical names are "ae." + the PyTorch `state_dict` key (`ae.encoder.blocks.0.0.conv1.weight`);
/// a diffusers-style folder's `autoencoder/model.safetensors` holds the keys without the prefix,
/// which are therefore the modules' "diffusers" names and the names they are traced under.
public struct ConvAutoencoderLayout: Sendable, Equatable {
    public static let prefix = "ae."

    /// A 3×3 convolution with padding 1 and a bias (every convolution of the model is one).
    /// - x: [N, input, H, W] → [N, output, ⌈H/stride⌉, ⌈W/stride⌉]
    public typealias Convolution = ConvolutionSpec

    /// `ResBlock(c)`: x + conv2(SiLU(conv1(SiLU(x)))), both convolutions c → c.
    public struct ResBlock: Sendable, Equatable {
        public let path: ModulePath
        public let conv1: Convolution
        public let conv2: Convolution
    }

    /// One resolution level in run order: its ResBlocks, then the convolution that leaves it — the
    /// encoder's stride-2 `down.l`, or the decoder's `up.{l−1}` after a nearest 2× upsample — absent
    /// at the level that has none.
    public struct Level: Sendable, Equatable {
        public let index: Int
        public let blocks: [ResBlock]
        public let resample: Convolution?
    }

    /// `conv_in`, the levels in the order they run, then `conv_out` (applied after a SiLU).
    public struct Stage: Sendable, Equatable {
        public let convIn: Convolution
        public let levels: [Level]
        public let convOut: Convolution
    }

    public let encoder: Stage
    public let decoder: Stage
    /// The decoder's adapter, one per decoder convolution in `state_dict` order; empty without `decoderAdapterRank`.
    public let decoderAdapter: [Adapter]

    public init(_ c: ConvAutoencoderConfig) {
        let root = ModulePath.root(prefix: Self.prefix)
        func conv(_ path: ModulePath, _ input: Int, _ output: Int, stride: Int = 1) -> Convolution {
            Convolution(path, input: input, output: output, kernel: 3, stride: stride, padding: .symmetric(1))
        }
        func blocks(_ side: ModulePath, level: Int, count: Int) -> [ResBlock] {
            (0..<count).map { k in
                let path = side.child("blocks.\(level).\(k)"), width = c.widths[level]
                return ResBlock(path: path, conv1: conv(path.child("conv1"), width, width), conv2: conv(path.child("conv2"), width, width))
            }
        }
        let levels = c.widths.count, last = c.widths[levels - 1], rgb = ConvAutoencoderConfig.imageChannels
        // Encoder: level l's blocks, then down.l (c_l → c_{l+1}, stride 2) except at the last level.
        let enc = root.child("encoder")
        encoder = Stage(
            convIn: conv(enc.child("conv_in"), rgb, c.widths[0]),
            levels: (0..<levels).map { l in
                Level(index: l, blocks: blocks(enc, level: l, count: c.encoderBlocks[l]),
                      resample: l < levels - 1 ? conv(enc.child("down.\(l)"), c.widths[l], c.widths[l + 1], stride: 2) : nil)
            },
            convOut: conv(enc.child("conv_out"), last, c.latentChannels))
        // Decoder: from the last level down; level l's blocks, then up.{l−1} (c_l → c_{l−1}) except at level 0.
        func decoderStage(_ dec: ModulePath) -> Stage {
            Stage(
                convIn: conv(dec.child("conv_in"), c.latentChannels, last),
                levels: (0..<levels).reversed().map { l in
                    Level(index: l, blocks: blocks(dec, level: l, count: c.decoderBlocks[l]),
                          resample: l > 0 ? conv(dec.child("up.\(l - 1)"), c.widths[l], c.widths[l - 1]) : nil)
                },
                convOut: conv(dec.child("conv_out"), c.widths[0], rgb))
        }
        let dec = decoderStage(root.child("decoder"))
        decoder = dec
        // The adapter mirrors the decoder under `decoder_adapter`, one entry per convolution.
        if let rank = c.decoderAdapterRank {
            let mirror = Self.ordered(decoderStage(root.child("decoder_adapter")))
            decoderAdapter = zip(Self.ordered(dec), mirror).map { Adapter(target: $0, at: $1.path, rank: rank) }
        } else {
            decoderAdapter = []
        }
    }

    /// A decoder convolution's low-rank change (Scripts/train/experiments/decoder_adapter.py): the convolution
    /// W [O, C, k, k], b [O] becomes W + up · down (the product over the rank, reshaped to W's shape) and b + bias.
    /// The rank is the config's, capped at min(O, C·k·k), beyond which a rank adds nothing.
    /// - up: [O, r], down: [r, C, k, k], bias: [O]
    public struct Adapter: Sendable, Equatable {
        public let target: Convolution
        public let up: ParameterSpec
        public let down: ParameterSpec
        public let bias: ParameterSpec

        init(target: Convolution, at path: ModulePath, rank: Int) {
            let (o, c, k) = (target.output, target.input, target.kernel)
            let r = min(rank, o, c * k * k)
            self.target = target
            up = path.parameter("up", [o, r])
            down = path.parameter("down", [r, c, k, k])
            bias = path.parameter("bias", [o])
        }

        public var rank: Int { up.shape[1] }
        public var parameters: [ParameterSpec] { [up, down, bias] }
    }

    /// Every convolution in `state_dict` order (module registration order: conv_in, blocks by level,
    /// down/up by index, conv_out), encoder first.
    public var convolutions: [Convolution] { Self.ordered(encoder) + Self.ordered(decoder) }

    static func ordered(_ s: Stage) -> [Convolution] {
        let levels = s.levels.sorted { $0.index < $1.index }
        return [s.convIn] + levels.flatMap { $0.blocks.flatMap { [$0.conv1, $0.conv2] } } + levels.compactMap(\.resample) + [s.convOut]
    }

    /// The canonical parameter list: weight [O, C, 3, 3] and bias [O] of every convolution, then the decoder
    /// adapter's up, down and bias per decoder convolution when the config has one.
    public static func parameters(_ c: ConvAutoencoderConfig) -> [ParameterSpec] {
        let layout = ConvAutoencoderLayout(c)
        return layout.convolutions.flatMap(\.parameters) + layout.decoderAdapter.flatMap(\.parameters)
    }

    /// How far (in latent pixels) a decoded pixel sees: it depends only on the latents within this
    /// distance of its own latent position ⌊x/f⌋. Walked backwards from the output: a 3×3 convolution
    /// adds 1 at its resolution; a nearest 2× upsample maps a reach r to ⌈r/2⌉ one level down.
    /// (No normalisation, no attention: this bound is what makes tiled decoding exact.)
    public var decoderReach: Int {
        var r = 1  // conv_out
        for level in decoder.levels.reversed() {
            if level.resample != nil { r = (r + 1 + 1) / 2 }  // up.{l−1} at level l−1, then the upsample to level l
            r += 2 * level.blocks.count
        }
        return r + 1  // conv_in
    }

    /// How far (in latent pixels) a latent sees into the image: ⌈R/f⌉ for the pixel reach R around
    /// its position f·o. A 3×3 convolution adds 1; a stride-2 one (padding 1) maps r to 2r + 1.
    public var encoderReach: Int {
        var r = 1  // conv_out
        for level in encoder.levels.reversed() {
            if level.resample != nil { r = 2 * r + 1 }
            r += 2 * level.blocks.count
        }
        r += 1  // conv_in
        let f = 1 << (encoder.levels.count - 1)
        return (r + f - 1) / f
    }
}
