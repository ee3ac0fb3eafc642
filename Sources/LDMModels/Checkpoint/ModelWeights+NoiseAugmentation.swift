extension ModelWeights {
    /// Whether these weights are a noise-augmented super-resolution model (stable-diffusion-x4-upscaler): a
    /// super-resolution U-Net whose class embedding takes the low-res noise level.
    var isNoiseAugmented: Bool { task == .superResolution && unet.classEmbeddings != nil }

    /// The x4 upscaler's augmentation settings: a folder's `low_res_scheduler/` and `max_noise_level`, the preset for a
    /// single file (as diffusers' `from_single_file`); nil for every other model.
    static func withNoiseAugmentation(_ weights: ModelWeights, folder: String?) throws(CheckpointError) -> ModelWeights {
        guard weights.isNoiseAugmented, weights.noiseAugmentation == nil else { return weights }
        var result = weights
        result.noiseAugmentation = try folder.map { folder throws(CheckpointError) in try NoiseAugmentationConfig.fromDiffusers(folder: folder) }
            ?? .x4Upscaler
        return result
    }
}
