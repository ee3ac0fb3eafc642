/// What a model config read from a file may hold (`UNetConfig`, `AutoencoderConfig`,
/// `ConvAutoencoderConfig`). Configs come from untrusted files (diffusers `config.json`, the
/// `ldm_edit_config` metadata) and are walked into layouts — loops over levels and blocks — and
/// multiplied into tensor shapes before any weight is read, so a number that describes no model is
/// refused first, by name. Each bound is far above every released model (the CompVis LDM
/// `bsr_sr`, `inpainting_big` and `vq-f4` configs, diffusers' copies of them, and Stable Diffusion's
/// U-Net and VAE) and far below anything that could overflow a shape.
enum ConfigBounds {
    /// Channels of one level (`model_channels × channel_mult`, diffusers `block_out_channels`).
    /// Released: at most 1280 (Stable Diffusion's U-Net), 1024 (inpainting_big), 640 (bsr_sr), 512
    /// (VQ-f4, SD's VAE). With 8192 the largest weight, a 3×3 convolution from a 2 · 8192-channel
    /// concatenation to 8192 channels, has 1.2 · 10^9 elements: no shape product comes near Int.max.
    static let width = 1...8192
    /// Resolution levels (`channel_mult` entries): released 3 (VQ-f4) and 4 (both LDM U-Nets, SD);
    /// 8 levels already downsample 128×.
    static let levels = 1...8
    /// ResBlocks per level (`num_res_blocks`, `layers_per_block`): released 1–4 (2 in every LDM
    /// U-Net and VQ-f4). At least one, or a level's width would never be reached on the way down
    /// (openaimodel.py changes width only in ResBlocks); checkpoint detection probes 1–4 too.
    static let resBlocks = 1...16
    /// Channels at a model's ends: U-Net input and output, VQ `z_channels` and `embed_dim`, the conv
    /// autoencoder's `latent_channels`. Released: 3 to 9 (z + 3 or 2z + 1 over 3- or 4-channel latents).
    static let endChannels = 1...1024
    /// VQ codebook entries (`n_embed`, `num_vq_embeddings`): released 8192 (vq-f4) and 16384 (vq-f8);
    /// 2^20 keeps the codebook under 2^30 elements at the widest `embed_dim`.
    static let codebook = 1...(1 << 20)
    /// Image channels of the VQ autoencoder's input and output: ldm-edit edits RGB images, and every
    /// released first stage is 3 → 3.
    static let imageChannels = 3

    /// GroupNorm eps: released 1e-5 (U-Net) and 1e-6 (VQ). It is added to a variance, so it must be
    /// a positive number that survives the conversion to Float32 (0, NaN or ±Inf give NaN images);
    /// above 1 it would no longer be a small stabiliser.
    static func isNormEps(_ eps: Double) -> Bool { eps > 0 && eps <= 1 && Float(eps).isNormal }

    /// "1 to 8192", for error messages.
    static func text(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound) to \(range.upperBound)" }
}

/// How a config's fields are named in errors: as the file the user would open spells them.
enum ConfigSpelling: Sendable, Equatable {
    /// A diffusers-style `config.json`: its own keys (`layers_per_block`, `block_out_channels`).
    case diffusers
    /// The `ldm_edit_config` metadata of a converted file: the component key and the property,
    /// which are its JSON keys (`unet.numResBlocks`).
    case canonical(component: String)
}

/// Throws `CheckpointError.invalidConfig` for the file at `path`, naming fields per `spelling`.
struct ConfigCheck {
    let path: String
    let spelling: ConfigSpelling

    /// The field's name in this file: the diffusers key or the component-qualified property.
    func name(diffusers: String, canonical: String) -> String {
        switch spelling {
        case .diffusers: diffusers
        case .canonical(let component): component + "." + canonical
        }
    }

    var isDiffusers: Bool { spelling == .diffusers }

    func require(_ condition: Bool, _ field: String, _ value: @autoclosure () -> String,
                 expected: @autoclosure () -> String) throws(CheckpointError) {
        guard condition else { throw .invalidConfig(path: path, field: field, value: value(), expected: expected()) }
    }

    /// `a × b` when it does not overflow (for showing widths computed from untrusted factors).
    static func product(_ a: Int, _ b: Int) -> String {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? "\(a)×\(b)" : "\(p)"
    }
}
