/// Hyper-parameters of the bundled first stage, the normalisation-free convolutional autoencoder
/// with continuous latents (`Scripts/train/conv_autoencoder.py` `ConvAutoencoder`). The coding keys
/// are that file's `config.json` keys, so one struct reads `autoencoder/config.json` of a diffusers-style
/// folder and the `ldm_edit_config` of a converted file; the defaults are its constructor's.
public struct ConvAutoencoderConfig: Sendable, Codable, Equatable {
    /// Channels per level c_0 … c_last (conv_autoencoder.py `widths=(32, 64, 64)`): levels − 1 stride-2
    /// convolutions, so the downsampling factor is f = 2^(levels − 1) (4 by default).
    public var widths: [Int] = [32, 64, 64]
    /// ResBlocks per level in the encoder (`encoder_blocks=(1, 1, 1)`) and decoder (`decoder_blocks=(1, 2, 2)`).
    public var encoderBlocks: [Int] = [1, 1, 1]
    public var decoderBlocks: [Int] = [1, 2, 2]
    /// z, the latent channels (`z=4`).
    public var latentChannels: Int = 4
    /// The diffusion latent is encode(x) · scalingFactor and decode divides by it first (as diffusers
    /// does with `vae.config.scaling_factor`). 1.0 in conv_autoencoder.py; train_autoencoder.py
    /// `latent_scale` measures 1/std of the training latents and writes it into config.json.
    public var scalingFactor: Double = 1.0
    /// The rank of the decoder's low-rank adapter, nil for none (Scripts/train/experiments/decoder_adapter.py
    /// writes `decoder_adapter_rank`): the decoder as stored is the shared first stage's, and the one that decodes
    /// what the sampler returns adds ΔW = up · down of at most this rank to each convolution (`ConvAutoencoderLayout.Adapter`).
    public var decoderAdapterRank: Int?

    /// conv_autoencoder.py: `conv_in` takes RGB and the decoder's `conv_out` gives RGB.
    public static let imageChannels = 3

    enum CodingKeys: String, CodingKey {
        case widths, encoderBlocks = "encoder_blocks", decoderBlocks = "decoder_blocks", latentChannels = "latent_channels",
             scalingFactor = "scaling_factor", decoderAdapterRank = "decoder_adapter_rank"
    }

    public init(widths: [Int] = [32, 64, 64], encoderBlocks: [Int] = [1, 1, 1], decoderBlocks: [Int] = [1, 2, 2],
                latentChannels: Int = 4, scalingFactor: Double = 1.0, decoderAdapterRank: Int? = nil) {
        self.widths = widths
        self.encoderBlocks = encoderBlocks
        self.decoderBlocks = decoderBlocks
        self.latentChannels = latentChannels
        self.scalingFactor = scalingFactor
        self.decoderAdapterRank = decoderAdapterRank
    }

    /// As `ConvAutoencoder.load` reads config.json: every key required but `scaling_factor` (1.0) and
    /// `decoder_adapter_rank` (none).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        widths = try c.decode([Int].self, forKey: .widths)
        encoderBlocks = try c.decode([Int].self, forKey: .encoderBlocks)
        decoderBlocks = try c.decode([Int].self, forKey: .decoderBlocks)
        latentChannels = try c.decode(Int.self, forKey: .latentChannels)
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? 1.0
        decoderAdapterRank = try c.decodeIfPresent(Int.self, forKey: .decoderAdapterRank)
    }

    /// Spatial downsampling factor f = 2^(levels − 1).
    public var downsamplingFactor: Int { 1 << max(0, widths.count - 1) }

    /// Refuses numbers that describe no buildable model (or one whose shapes would overflow): files
    /// are untrusted input, and conv_autoencoder.py's `zip(widths, blocks)` would silently drop levels.
    /// Levels, widths and latent channels follow `ConfigBounds`; block counts may be 0 (a level of
    /// only its resampling convolution) to 64. Fields are named as `spelling` spells them (the same
    /// keys in config.json and, under `convAutoencoder.`, in the `ldm_edit_config` metadata).
    func validated(path: String, spelling: ConfigSpelling = .diffusers) throws(CheckpointError) -> ConvAutoencoderConfig {
        let check = ConfigCheck(path: path, spelling: spelling)
        func name(_ key: CodingKeys) -> String { check.name(diffusers: key.rawValue, canonical: key.rawValue) }
        try check.require(ConfigBounds.levels.contains(widths.count), name(.widths), "\(widths)",
                          expected: "\(ConfigBounds.text(ConfigBounds.levels)) levels")
        try check.require(widths.allSatisfy(ConfigBounds.width.contains), name(.widths), "\(widths)",
                          expected: "widths of \(ConfigBounds.text(ConfigBounds.width)) channels")
        for (key, blocks) in [(CodingKeys.encoderBlocks, encoderBlocks), (.decoderBlocks, decoderBlocks)] {
            try check.require(blocks.count == widths.count, name(key), "\(blocks)", expected: "one count per width (\(widths.count))")
            try check.require(blocks.allSatisfy { (0...64).contains($0) }, name(key), "\(blocks)", expected: "block counts of 0 to 64")
        }
        try check.require(ConfigBounds.endChannels.contains(latentChannels), name(.latentChannels), "\(latentChannels)",
                          expected: "\(ConfigBounds.text(ConfigBounds.endChannels)) channels")
        try check.require(scalingFactor.isFinite && scalingFactor > 0 && Float(scalingFactor).isNormal, name(.scalingFactor), "\(scalingFactor)",
                          expected: "a positive finite number")
        if let rank = decoderAdapterRank {
            try check.require((1...1024).contains(rank), name(.decoderAdapterRank), "\(rank)", expected: "a rank of 1 to 1024")
        }
        return self
    }
}
