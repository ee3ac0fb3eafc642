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

    /// conv_autoencoder.py: `conv_in` takes RGB and the decoder's `conv_out` gives RGB.
    public static let imageChannels = 3

    enum CodingKeys: String, CodingKey {
        case widths, encoderBlocks = "encoder_blocks", decoderBlocks = "decoder_blocks", latentChannels = "latent_channels",
             scalingFactor = "scaling_factor"
    }

    public init(widths: [Int] = [32, 64, 64], encoderBlocks: [Int] = [1, 1, 1], decoderBlocks: [Int] = [1, 2, 2],
                latentChannels: Int = 4, scalingFactor: Double = 1.0) {
        self.widths = widths
        self.encoderBlocks = encoderBlocks
        self.decoderBlocks = decoderBlocks
        self.latentChannels = latentChannels
        self.scalingFactor = scalingFactor
    }

    /// As `ConvAutoencoder.load` reads config.json: every key required but `scaling_factor` (1.0).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        widths = try c.decode([Int].self, forKey: .widths)
        encoderBlocks = try c.decode([Int].self, forKey: .encoderBlocks)
        decoderBlocks = try c.decode([Int].self, forKey: .decoderBlocks)
        latentChannels = try c.decode(Int.self, forKey: .latentChannels)
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? 1.0
    }

    /// Spatial downsampling factor f = 2^(levels − 1).
    public var downsamplingFactor: Int { 1 << max(0, widths.count - 1) }

    /// Refuses numbers that describe no buildable model (or one whose shapes would overflow): files
    /// are untrusted input, and conv_autoencoder.py's `zip(widths, blocks)` would silently drop levels.
    func validated(path: String) throws(CheckpointError) -> ConvAutoencoderConfig {
        func fail(_ reason: String) -> CheckpointError { .unsupportedModel(path: path, reason: "conv autoencoder config: " + reason) }
        guard (1...8).contains(widths.count) else { throw fail("\(widths.count) levels in widths (1 to 8 supported)") }
        guard widths.allSatisfy({ (1...8192).contains($0) }) else { throw fail("widths \(widths) must be 1 to 8192") }
        guard encoderBlocks.count == widths.count, decoderBlocks.count == widths.count else {
            throw fail("encoder_blocks \(encoderBlocks) and decoder_blocks \(decoderBlocks) need one count per width (\(widths.count))")
        }
        guard (encoderBlocks + decoderBlocks).allSatisfy({ (0...64).contains($0) }) else { throw fail("block counts must be 0 to 64") }
        guard (1...1024).contains(latentChannels) else { throw fail("latent_channels \(latentChannels) must be 1 to 1024") }
        guard scalingFactor.isFinite, scalingFactor > 0, Float(scalingFactor).isNormal else {
            throw fail("scaling_factor \(scalingFactor) must be a positive finite number")
        }
        return self
    }
}
