/// Hyper-parameters of the CompVis `openaimodel.UNetModel` family (docs/ldm-spec.md §1.3), the numbers
/// every U-Net block and key name is derived from.
public struct UNetConfig: Sendable, Codable, Equatable {
    /// How attention heads are counted.
    public enum Heads: Sendable, Codable, Equatable {
        /// `num_heads: n` at every width (inpainting_big: 8).
        case count(Int)
        /// `num_head_channels: d`, heads = C / d (bsr_sr: 32).
        case channelsPerHead(Int)

        public func heads(channels: Int) -> Int {
            switch self {
            case .count(let n): n
            case .channelsPerHead(let d): max(1, channels / d)
            }
        }
    }

    /// Stable Diffusion's text conditioning: every attention place holds a cross-attention
    /// `SpatialTransformer` (CompVis `use_spatial_transformer: true`; diffusers `UNet2DConditionModel`'s
    /// `Transformer2DModel`) instead of openaimodel's `AttentionBlock`.
    public struct CrossAttention: Sendable, Codable, Equatable {
        /// Width of the text context (CompVis `context_dim`, diffusers `cross_attention_dim`): 768 for
        /// SD 1.x (CLIP ViT-L/14), 1024 for SD 2.x (OpenCLIP ViT-H).
        public var contextDim: Int
        /// Transformer blocks per SpatialTransformer (`transformer_depth`, diffusers
        /// `transformer_layers_per_block`): 1 in SD 1.x and 2.x.
        public var depth: Int
        /// proj_in / proj_out as nn.Linear (SD 2.x: `use_linear_in_transformer`, diffusers
        /// `use_linear_projection`) rather than 1x1 convolutions (SD 1.x).
        public var linearProjection: Bool
        /// Per level: whether the transformer blocks' first attention attends to the context instead of the image
        /// (CompVis `disable_self_attentions`, diffusers `only_cross_attention`; the x4 upscaler: [true, true, true,
        /// false]). nil: self-attention everywhere (SD 1.x, 2.x).
        public var onlyCrossAttention: [Bool]?
        /// The same for the mid block (CompVis `disable_middle_self_attn`, diffusers `mid_block_only_cross_attention`).
        public var middleOnlyCrossAttention: Bool?

        public init(contextDim: Int, depth: Int = 1, linearProjection: Bool = false, onlyCrossAttention: [Bool]? = nil,
                    middleOnlyCrossAttention: Bool? = nil) {
            (self.contextDim, self.depth, self.linearProjection) = (contextDim, depth, linearProjection)
            (self.onlyCrossAttention, self.middleOnlyCrossAttention) = (onlyCrossAttention, middleOnlyCrossAttention)
        }

        /// Whether the attention at `level` (nil: the mid block) attends to the context twice.
        public func onlyCross(level: Int?) -> Bool {
            guard let level else { return middleOnlyCrossAttention ?? false }
            return onlyCrossAttention.map { $0.indices.contains(level) && $0[level] } ?? false
        }
    }

    public var inChannels: Int
    public var outChannels: Int
    public var modelChannels: Int
    public var channelMult: [Int]
    public var numResBlocks: Int
    /// Levels (0 = full latent resolution) whose blocks have attention; the mid block always has.
    public var attentionLevels: [Int]
    public var heads: Heads
    /// Down/up-sample with ResBlocks (avg-pool / nearest inside) instead of (strided) convolutions.
    public var resblockUpdown: Bool
    public var normGroups: Int = 32
    /// `GroupNorm32` = `nn.GroupNorm(32, C)` default eps.
    public var normEps: Double = 1e-5
    /// nil: the LDM families (self-attention `AttentionBlock`s, no context).
    public var crossAttention: CrossAttention?
    /// Rows of the class embedding added to the time embedding (CompVis `num_classes`, diffusers `num_class_embeds`;
    /// `ClassEmbedding`): stable-diffusion-x4-upscaler's 1000, fed its low-res noise level. nil: none (every other family).
    public var classEmbeddings: Int?

    public var timeEmbedChannels: Int { 4 * modelChannels }
    public func width(level: Int) -> Int { modelChannels * channelMult[level] }
    /// Spatial downsampling factor 2^(levels − 1) (levels − 1 downsamplers): the latent's sides must
    /// be multiples of it for the skips to match (8 for both released U-Nets).
    public var downsamplingFactor: Int { 1 << max(0, channelMult.count - 1) }

    public init(inChannels: Int, outChannels: Int, modelChannels: Int, channelMult: [Int], numResBlocks: Int,
                attentionLevels: [Int], heads: Heads, resblockUpdown: Bool, normGroups: Int = 32, normEps: Double = 1e-5,
                crossAttention: CrossAttention? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.modelChannels = modelChannels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
        self.attentionLevels = attentionLevels
        self.heads = heads
        self.resblockUpdown = resblockUpdown
        self.normGroups = normGroups
        self.normEps = normEps
        self.crossAttention = crossAttention
    }

    /// `models/ldm/bsr_sr/config.yaml` (= HF ldm-super-resolution-4x-openimages unet/config.json):
    /// widths 160/320/320/640, attention_resolutions [16, 8] → level 3, num_head_channels 32.
    public static let superResolution4x = UNetConfig(
        inChannels: 6, outChannels: 3, modelChannels: 160, channelMult: [1, 2, 2, 4], numResBlocks: 2,
        attentionLevels: [3], heads: .channelsPerHead(32), resblockUpdown: false)

    /// `models/ldm/inpainting_big/config.yaml`: widths 256/512/768/1024, attention_resolutions
    /// [8, 4, 2] → levels 1–3, num_heads 8, resblock_updown true.
    public static let inpaintingBig = UNetConfig(
        inChannels: 7, outChannels: 3, modelChannels: 256, channelMult: [1, 2, 3, 4], numResBlocks: 2,
        attentionLevels: [1, 2, 3], heads: .count(8), resblockUpdown: true)
}

extension UNetConfig {
    /// Stable Diffusion 1.5 inpainting (`configs/stable-diffusion/v1-inpainting-inference.yaml`;
    /// runwayml stable-diffusion-inpainting unet/config.json): 9 input channels (latent 4 + masked
    /// image 4 + mask 1), widths 320/640/1280/1280, attention_resolutions [4, 2, 1] → levels 0–2,
    /// num_heads 8 (diffusers `attention_head_dim: 8`, which UNet2DConditionModel reads as a head
    /// count), transformer_depth 1, context_dim 768, conv proj_in/proj_out, conv resampling.
    public static let sd15Inpainting = UNetConfig(
        inChannels: 9, outChannels: 4, modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: 2,
        attentionLevels: [0, 1, 2], heads: .count(8), resblockUpdown: false,
        crossAttention: CrossAttention(contextDim: 768, depth: 1, linearProjection: false))

    /// Stable Diffusion 2 inpainting (stabilityai/stable-diffusion-2-inpainting unet/config.json; CompVis
    /// `v2-inpainting-inference.yaml`): SD 1.5 inpainting's shape with 64 channels per head (diffusers' per-block
    /// `attention_head_dim` [5, 10, 20, 20], CompVis `num_head_channels: 64`), context width 1024 (OpenCLIP ViT-H/14)
    /// and linear proj_in/proj_out.
    public static let sd2Inpainting = UNetConfig(
        inChannels: 9, outChannels: 4, modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: 2,
        attentionLevels: [0, 1, 2], heads: .channelsPerHead(64), resblockUpdown: false,
        crossAttention: CrossAttention(contextDim: 1024, depth: 1, linearProjection: true))
}

extension UNetConfig {
    /// stabilityai/stable-diffusion-x4-upscaler (x4-upscaling.yaml `unet_config`; unet/config.json): 7 input channels
    /// (latent 4 + noised low-res RGB 3), widths 256/512/512/1024, attention_resolutions [2, 4, 8] → levels 1–3,
    /// disable_self_attentions [true, true, true, false] (diffusers only_cross_attention), num_heads 8, context_dim 1024
    /// (OpenCLIP ViT-H), linear projections, num_classes 1000 (the noise level); 473 M parameters.
    public static var x4Upscaler: UNetConfig {
        var c = UNetConfig(inChannels: 7, outChannels: 4, modelChannels: 256, channelMult: [1, 2, 2, 4], numResBlocks: 2,
                           attentionLevels: [1, 2, 3], heads: .count(8), resblockUpdown: false,
                           crossAttention: CrossAttention(contextDim: 1024, depth: 1, linearProjection: true,
                                                          onlyCrossAttention: [true, true, true, false]))
        c.classEmbeddings = 1000
        return c
    }
}

/// Which editing task a U-Net serves, from the channels it concatenates to the latent channels.
public enum ModelTask: String, Sendable, Codable, Equatable {
    case superResolution = "super-resolution"
    case inpainting

    /// latent + low-res RGB (z + 3: 6 over VQ-f4, 7 over the conv autoencoder) = super-resolution;
    /// latent + encoded masked image + mask (2z + 1: 7 over VQ-f4, 9 over the conv autoencoder) =
    /// inpainting (docs/ldm-spec.md §0.8). (They would coincide for z = 2, which no supported first stage has.)
    /// A text-conditioned U-Net that takes the latent alone (a Stable Diffusion text-to-image model) inpaints by
    /// blending (`InpaintingMethod.blended`).
    public init?(unetInputChannels: Int, latentChannels z: Int, textConditioned: Bool = false) {
        switch unetInputChannels {
        case z + 3: self = .superResolution
        case 2 * z + 1: self = .inpainting
        case z where textConditioned: self = .inpainting
        default: return nil
        }
    }

    /// "a super-resolution", "an inpainting".
    public var withArticle: String { self == .inpainting ? "an inpainting" : "a super-resolution" }
}

/// How an inpainting model learns the known part of the image.
public enum InpaintingMethod: String, Sendable, Equatable {
    /// The mask and the masked image are U-Net inputs (the LDM inpainting model, SD inpainting checkpoints).
    case concatenated
    /// The U-Net sees the latent alone (an SD text-to-image checkpoint); the known region is put back into the
    /// latent after every step. The lower-quality path, as the web UIs run ordinary checkpoints.
    case blended

    /// The method of an inpainting U-Net over a `latentChannels`-channel first stage; nil for another task.
    public init?(unet: UNetConfig, latentChannels z: Int) {
        switch unet.inChannels {
        case 2 * z + 1: self = .concatenated
        case z where unet.crossAttention != nil: self = .blended
        default: return nil
        }
    }
}
