/// Hyper-parameters of the VQ-f4 first stage (`ldm.models.autoencoder.VQModelInterface`,
/// `models/first_stage_models/vq-f4*/config.yaml`; docs/ldm-spec.md §1.2).
public struct AutoencoderConfig: Sendable, Codable, Equatable {
    public var inChannels: Int = 3
    public var outChannels: Int = 3
    /// `ch`: width of the first level.
    public var channels: Int = 128
    public var channelMult: [Int] = [1, 2, 4]
    public var numResBlocks: Int = 2
    /// `z_channels` (encoder output) and `embed_dim` (codebook vector size) — both 3 for VQ-f4.
    public var zChannels: Int = 3
    public var embedDim: Int = 3
    /// `n_embed`: codebook size.
    public var codebookSize: Int = 8192
    /// Single-head attention in the encoder and decoder mid blocks: vq-f4 (SR) yes, vq-f4-noattn (inpainting) no.
    public var midAttention: Bool = true
    public var normGroups: Int = 32
    /// model.py `Normalize`: GroupNorm eps 1e-6.
    public var normEps: Double = 1e-6

    public init(channels: Int = 128, channelMult: [Int] = [1, 2, 4], numResBlocks: Int = 2, zChannels: Int = 3,
                embedDim: Int = 3, codebookSize: Int = 8192, midAttention: Bool = true, normGroups: Int = 32) {
        self.channels = channels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
        self.zChannels = zChannels
        self.embedDim = embedDim
        self.codebookSize = codebookSize
        self.midAttention = midAttention
        self.normGroups = normGroups
    }

    /// Spatial downsampling factor f = 2^(levels − 1).
    public var downsamplingFactor: Int { 1 << (channelMult.count - 1) }

    public static let vqF4 = AutoencoderConfig()
    public static let vqF4NoAttention = AutoencoderConfig(midAttention: false)
}
