import Foundation
import LDMModels
import LDMTensor

/// Stable Diffusion inpainting's concatenated conditioning (diffusers pipeline_stable_diffusion_inpaint.py
/// `prepare_mask_latents`; CompVis `LatentInpaintDiffusion` with `concat_keys ("mask", "masked_image")`), which
/// differs from the LDM inpainting model's (`InpaintingConditioning`) in four ways:
/// - the masked image is `image · (mask < 0.5)` in [−1, 1], so the hole is 0 (grey), not −1;
/// - the KL posterior is *sampled*, mean + exp(½·clamp(logvar, −30, 20))·ε with ε from the pipeline's generator
///   (vae.py `DiagonalGaussianDistribution.sample`), then × scaling_factor;
/// - the mask at latent size (`F.interpolate`, nearest) is 0 / 1, not ±1;
/// - the order is [mask, masked-image latents] (after the noisy latent).
/// - image: [1, 3, H, W] in [−1, 1]; mask: [1, 1, H, W], ≥ 0.5 = repaint → [1, 1 + z, H/f, W/f]
public struct StableDiffusionInpaintingConditioning: Sendable {
    public let channels: Int
    public let latentSize: (height: Int, width: Int)
    let image: Tensor
    let mask: Tensor

    public init(image: Tensor, mask: Tensor, firstStage: FirstStageConfig) throws {
        let f = firstStage.downsamplingFactor
        guard image.rank == 4, image.shape[0] == 1, image.shape[1] == 3, image.shape[2] % f == 0, image.shape[3] % f == 0 else {
            throw PipelineError.shapeMismatch(argument: "image", expected: "[1, 3, H, W], H and W multiples of \(f)", actual: image.shape)
        }
        guard mask.shape == [1, 1, image.shape[2], image.shape[3]] else {
            throw PipelineError.shapeMismatch(argument: "mask", expected: "[1, 1, \(image.shape[2]), \(image.shape[3])]", actual: mask.shape)
        }
        (self.image, self.mask) = (image, mask)
        channels = 1 + firstStage.latentChannels
        latentSize = (image.shape[2] / f, image.shape[3] / f)
    }

    /// The masked image's posterior sample × scaling factor, drawing its ε from `generator` (after the initial
    /// latents, as the pipeline does). Only the KL first stage has a posterior.
    /// → [1, z, H/f, W/f]
    public func maskedImageLatents(firstStage: FirstStage, generator: inout TorchGenerator, workspace ws: Workspace) throws -> Tensor {
        let plane = image.shape[2] * image.shape[3]
        let masked = try ws.tensor(image.shape)
        for c in 0..<3 {
            for p in 0..<plane {
                // image * (mask < 0.5): one multiplication by 0 or 1 (a −0 where the image is negative, as torch).
                masked.data[c * plane + p] = image.data[c * plane + p] * (mask.data[p] < 0.5 ? 1 : 0)
            }
        }
        return try Self.posteriorSample(masked, firstStage: firstStage, generator: &generator, workspace: ws)
    }

    /// The whole image's posterior sample × scaling factor (diffusers `prepare_latents` with
    /// `return_image_latents`, the blended path's known region), ε from `generator`.
    /// → [1, z, H/f, W/f]
    public func imageLatents(firstStage: FirstStage, generator: inout TorchGenerator, workspace ws: Workspace) throws -> Tensor {
        try Self.posteriorSample(image, firstStage: firstStage, generator: &generator, workspace: ws)
    }

    /// mean + exp(½·clamp(logvar, −30, 20))·ε, × scaling factor (vae.py `DiagonalGaussianDistribution.sample`).
    /// - x: [1, 3, H, W] → [1, z, H/f, W/f]
    static func posteriorSample(_ x: Tensor, firstStage: FirstStage, generator: inout TorchGenerator, workspace ws: Workspace) throws -> Tensor {
        guard case .kl(let kl) = firstStage else {
            throw PipelineError.shapeMismatch(argument: "first stage", expected: "the KL autoencoder (Stable Diffusion)", actual: [])
        }
        let moments = try kl.moments(x, workspace: ws)
        let z = kl.config.latentChannels
        let (lh, lw) = (moments.shape[2], moments.shape[3])
        let count = z * lh * lw
        let noise = generator.normal(count)
        let scale = Float(kl.config.scalingFactor)
        let latents = try Tensor(shape: [1, z, lh, lw])
        for i in 0..<count {
            let logvar = min(max(moments.data[count + i], -30), 20)
            let std = expf(0.5 * logvar)  // torch.exp: correctly rounded or within an ulp, as glibc's expf
            latents.data[i] = scale * (moments.data[i] + std * noise[i])
        }
        return latents
    }

    /// The mask at latent size, 0 / 1 (`F.interpolate(mask, size=(h, w))`, mode "nearest": source index ⌊i·H/h⌋).
    /// → [1, 1, h, w]
    public func latentMask() throws -> Tensor {
        let (lh, lw) = latentSize
        let (h, w) = (image.shape[2], image.shape[3])
        let result = try Tensor(shape: [1, 1, lh, lw])
        for y in 0..<lh {
            for x in 0..<lw {
                result.data[y * lw + x] = mask.data[(y * h / lh) * w + (x * w / lw)] >= 0.5 ? 1 : 0
            }
        }
        return result
    }

    /// [mask (0 / 1, nearest), masked-image latents] → [1, 1 + z, h, w]
    public func conditioning(maskedImageLatents latents: Tensor) throws -> Tensor {
        let (lh, lw) = latentSize
        guard latents.count == (channels - 1) * lh * lw else {
            throw PipelineError.shapeMismatch(argument: "masked image latents", expected: "[1, \(channels - 1), \(lh), \(lw)]", actual: latents.shape)
        }
        let result = try Tensor(shape: [1, channels, lh, lw])
        let latentMask = try latentMask()
        result.data.update(from: latentMask.data, count: lh * lw)
        (result.data + lh * lw).update(from: latents.data, count: latents.count)
        return result
    }
}
