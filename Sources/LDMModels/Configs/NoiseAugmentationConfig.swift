import Foundation

/// stable-diffusion-x4-upscaler's low-res noise augmentation: before it is concatenated to the latent, the low-res
/// image is noised to `noise_level` of a DDPM schedule of its own, and the level is the U-Net's class label
/// (CompVis ldm/modules/diffusionmodules/upscaling.py `ImageConcatWithNoiseAugmentation`: `q_sample(x, t)` with
/// x4-upscaling.yaml's noise_schedule_config linear_start 0.0001, linear_end 0.02, max_noise_level 350; diffusers
/// StableDiffusionUpscalePipeline: `low_res_scheduler.add_noise(image, noise, noise_level)`, `max_noise_level` in
/// model_index.json, default noise_level 20).
public struct NoiseAugmentationConfig: Sendable, Codable, Equatable {
    /// The augmentation's own schedule (CompVis "linear" = diffusers scaled_linear, √β linear).
    public var schedule: NoiseScheduleConfig
    /// The largest noise level accepted (diffusers checks `noise_level > max_noise_level`).
    public var maxNoiseLevel: Int

    public init(schedule: NoiseScheduleConfig, maxNoiseLevel: Int) {
        (self.schedule, self.maxNoiseLevel) = (schedule, maxNoiseLevel)
    }

    /// diffusers' `noise_level` default (pipeline_stable_diffusion_upscale.py `__call__`).
    public static let defaultNoiseLevel = 20

    /// What diffusers' single-file loader gives the x4 upscaler (loaders/single_file_utils.py, component
    /// "low_res_scheduler": DDPMScheduler, scaled_linear 0.0001 → 0.02 over 1000 steps) with the pipeline's
    /// default max_noise_level 350 (= x4-upscaling.yaml).
    public static let x4Upscaler = NoiseAugmentationConfig(
        schedule: NoiseScheduleConfig(timesteps: 1000, linearStart: 0.0001, linearEnd: 0.02, source: "preset"), maxNoiseLevel: 350)

    /// A diffusers folder's `low_res_scheduler/scheduler_config.json` (a DDPMScheduler; scaled_linear only, as every
    /// schedule here) and model_index.json's `max_noise_level`; the x4 preset for what is absent.
    static func fromDiffusers(folder: String) throws(CheckpointError) -> NoiseAugmentationConfig {
        var config = x4Upscaler
        let schedulerPath = folder + "/low_res_scheduler/scheduler_config.json"
        if FileManager.default.fileExists(atPath: schedulerPath) {
            config.schedule = try NoiseScheduleConfig.fromDiffusers(try DiffusersConfig.load(schedulerPath), path: schedulerPath)
        }
        let indexPath = folder + "/model_index.json"
        if FileManager.default.fileExists(atPath: indexPath),
           let level = try DiffusersConfig.int(try DiffusersConfig.load(indexPath), "max_noise_level", path: indexPath) {
            guard (0..<config.schedule.timesteps).contains(level) else {
                throw .invalidConfig(path: indexPath, field: "max_noise_level", value: "\(level)",
                                     expected: "0 to \(config.schedule.timesteps - 1), a step of the low-res schedule (x4 upscaler: 350)")
            }
            config.maxNoiseLevel = level
        }
        return config
    }
}
