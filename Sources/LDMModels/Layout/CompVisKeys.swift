/// How CompVis LatentDiffusion checkpoints name things (docs/ldm-spec.md §6.1), and which of their keys
/// are deliberately left unused.
enum CompVisKeys {
    static let unet = "model.diffusion_model."
    static let firstStage = "first_stage_model."
    static let ema = "model_ema."

    /// U-Net keys (after `unet`) by which diffusers' `infer_diffusers_model_type` tells Stable Diffusion families
    /// apart (loaders/single_file_utils.py `CHECKPOINT_KEY_NAMES["v2"]`, `["upscale"]`): SD 2.x when the first is
    /// 1024 wide, the x4 upscaler when the second exists.
    static let stableDiffusion2Probe = "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight"
    static let upscalerProbe = "input_blocks.10.0.skip_connection.bias"

    /// `ldm/modules/ema.py` stores each U-Net parameter as one buffer named with every dot removed.
    static func emaName(_ unetKey: String) -> String {
        ema + "diffusion_model" + unetKey.replacingOccurrences(of: ".", with: "")
    }

    /// Keys that are present in real checkpoints and ignored on purpose, each with its reason.
    static func ignoredOnPurpose(_ key: String) -> Bool {
        // The LDM inpainting model's cond stage *is* the first stage: the same tensors again. Stable Diffusion's is
        // the CLIP text encoder (`cond_stage_model.transformer.text_model.*`), audited on its own by CLIPTextWeights.
        if key.hasPrefix("cond_stage_model.") { return true }
        // The x4 upscaler's `low_scale_model` (ImageConcatWithNoiseAugmentation): its augmentation schedule's buffers, the
        // schedule `NoiseAugmentationConfig.x4Upscaler` computes (as diffusers' from_single_file does), no weights.
        if key.hasPrefix("low_scale_model.") { return true }
        // EMA bookkeeping, not weights.
        if key == "model_ema.decay" || key == "model_ema.num_updates" { return true }
        // Noise-schedule buffers: checked against the schedule (ScheduleConfig), not model weights.
        if scheduleBuffers.contains(key) { return true }
        // Stray DDIM buffers saved into inpainting_big (nickyisadog/latent-diffusion-inpainting#10).
        if ["ddim_sigmas", "ddim_alphas", "ddim_alphas_prev", "ddim_sqrt_one_minus_alphas"].contains(key) { return true }
        return false
    }

    static let scheduleBuffers: Set<String> = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2", "logvar",
    ]
}

import Foundation
