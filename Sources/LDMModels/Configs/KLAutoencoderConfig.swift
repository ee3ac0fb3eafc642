/// Hyper-parameters of the KL first stage of Stable Diffusion 1.x (CompVis `ldm.models.autoencoder.AutoencoderKL`,
/// diffusers `AutoencoderKL`): the VQ models' Encoder/Decoder with `double_z` (the encoder gives mean and
/// log-variance, 2·z channels), `quant_conv` 2z → 2z, no codebook, `post_quant_conv` z → z, and latents
/// scaled by `scalingFactor`. Defaults are SD 1.x's kl-f8: CompVis `configs/stable-diffusion/v1-inference.yaml`
/// `first_stage_config` (embed_dim 4, z_channels 4, ch 128, ch_mult [1, 2, 4, 4], num_res_blocks 2,
/// attn_resolutions [] = the mid attention only, double_z true; `scale_factor: 0.18215` on the LatentDiffusion),
/// and the SD 1.5 diffusers `vae/config.json` (block_out_channels [128, 256, 512, 512], layers_per_block 2,
/// latent_channels 4, norm_num_groups 32, scaling_factor 0.18215). GroupNorm eps 1e-6 (model.py `Normalize`).
public struct KLAutoencoderConfig: Sendable, Codable, Equatable {
    public var inChannels: Int = 3
    public var outChannels: Int = 3
    /// `ch` / block_out_channels[0]: width of the first level.
    public var channels: Int = 128
    public var channelMult: [Int] = [1, 2, 4, 4]
    public var numResBlocks: Int = 2
    /// `z_channels` = `embed_dim` (equal in every released KL model; diffusers has one `latent_channels`).
    public var latentChannels: Int = 4
    /// The single-head attention in the encoder's and decoder's mid blocks (`mid_block_add_attention`).
    public var midAttention: Bool = true
    public var normGroups: Int = 32
    public var normEps: Double = 1e-6
    /// Diffusion latent = mean · scalingFactor (diffusers `vae.config.scaling_factor`, CompVis `scale_factor`).
    public var scalingFactor: Double = 0.18215

    public init(channels: Int = 128, channelMult: [Int] = [1, 2, 4, 4], numResBlocks: Int = 2, latentChannels: Int = 4,
                midAttention: Bool = true, normGroups: Int = 32, scalingFactor: Double = 0.18215) {
        self.channels = channels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
        self.latentChannels = latentChannels
        self.midAttention = midAttention
        self.normGroups = normGroups
        self.scalingFactor = scalingFactor
    }

    /// Spatial downsampling factor f = 2^(levels − 1): 8 for SD, 4 for the x4 upscaler; the level count is the config's.
    public var downsamplingFactor: Int { 1 << (channelMult.count - 1) }

    /// The encoder/decoder numbers in the shared walk's terms (`AutoencoderLayout(_, kind: .kl)`):
    /// z = embed_dim = latentChannels; the codebook size is not used by a KL walk.
    public var stages: AutoencoderConfig {
        var c = AutoencoderConfig(channels: channels, channelMult: channelMult, numResBlocks: numResBlocks, zChannels: latentChannels,
                                  embedDim: latentChannels, codebookSize: 0, midAttention: midAttention, normGroups: normGroups)
        c.inChannels = inChannels
        c.outChannels = outChannels
        c.normEps = normEps
        return c
    }

    /// SD 1.x (and 2.x) kl-f8: 83,653,863 parameters.
    public static let sd = KLAutoencoderConfig()

    /// stable-diffusion-x4-upscaler's kl-f4 (x4-upscaling.yaml `first_stage_config`: ch 128, ch_mult [1, 2, 4],
    /// num_res_blocks 2, attn_resolutions [] = mid attention only; `scale_factor: 0.08333`; diffusers vae/config.json
    /// block_out_channels [128, 256, 512]): the decoder turns a latent at the low-res image's size into 4× the pixels.
    public static let x4Upscaler = KLAutoencoderConfig(channelMult: [1, 2, 4], scalingFactor: x4UpscalerScaling)
    /// x4-upscaling.yaml `scale_factor` (= vae/config.json `scaling_factor`).
    public static let x4UpscalerScaling = 0.08333
}
