/// What the U-Net predicts (diffusers schedulers' `prediction_type`; CompVis `parameterization`):
/// the noise ε (every LDM model, Stable Diffusion 1.x, SD-2 inpainting) or the velocity
/// v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho 2022, §4; SD 2.x 768 text-to-image, the x4 upscaler). The samplers
/// turn a v output into what their update needs, each with its diffusers scheduler's formula.
public enum PredictionType: String, Sendable, Codable, Equatable, CaseIterable {
    case epsilon
    case vPrediction = "v_prediction"

    /// The words `inspect` prints.
    public var description: String {
        switch self {
        case .epsilon: "ε (noise; diffusers prediction_type epsilon)"
        case .vPrediction: "v (velocity; diffusers prediction_type v_prediction)"
        }
    }

    /// What diffusers' `from_single_file` gives a Stable Diffusion single file: the default config repository
    /// `infer_diffusers_model_type` picks from the file's tensors (diffusers 0.42.1 loaders/single_file_utils.py), and
    /// that repository's scheduler_config.json, in the function's order:
    /// - a 9-channel `input_blocks.0.0.weight` ("inpainting", "inpainting_v2": stable-diffusion-inpainting,
    ///   stable-diffusion-2-inpainting): ε;
    /// - `input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight` 1024 wide ("v2": stabilityai/stable-diffusion-2-1): v;
    /// - `input_blocks.10.0.skip_connection.bias` present ("upscale": stabilityai/stable-diffusion-x4-upscaler): v;
    /// - anything else (SD 1.x: stable-diffusion-v1-5): ε.
    /// (The 512² SD 2 base is ε but has 2.1's tensors; diffusers' legacy loader tells them apart by
    /// `global_step == 875000`, which a safetensors file does not keep, and otherwise takes v, as here.)
    /// - v2ContextWidth: the last dimension of that `attn2.to_k` weight, nil when the file has none.
    public static func stableDiffusionSingleFile(inChannels: Int, v2ContextWidth: Int?, upscaleSkip: Bool) -> PredictionType {
        if inChannels == 9 { return .epsilon }
        if v2ContextWidth == 1024 { return .vPrediction }
        return upscaleSkip ? .vPrediction : .epsilon
    }
}
