"""Texture terms for fine-tunes that train through a sampler (experiments/inpaint_trajectory.py,
experiments/sr_trajectory_adversarial.py): what is left of an image after its block means, and how much of it a
region holds compared with the photo. Images are [N, 3, H, W] in [−1, 1], masks [N, 1, H, W] with 1 where the term
applies (the inpainting hole; all ones for a whole upscale)."""
import torch
import torch.nn.functional as F


def high_pass(x, k):
    """x minus its k-pixel block means (nearest-upsampled): what an error low-passed to k-pixel blocks leaves out
    (inpaint_trajectory.hole_error). x: [N, C, H, W] → [N, C, H, W], H and W multiples of k."""
    return x - F.interpolate(F.avg_pool2d(x, k), scale_factor=k, mode="nearest")


# BT.601 luma and the two colour differences, on [−1, 1] RGB (JPEG's YCbCr, without the offsets): texture is matched
# per channel here so that the colour channels, which hold little high-pass in photos, cannot carry the luma's.
YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def to_ycbcr(x):
    """x: [N, 3, H, W] RGB → [N, 3, H, W] Y, Cb, Cr."""
    return torch.einsum("oc,nchw->nohw", YCBCR.to(x), x)


def texture_energy_error(out, photo, mask, k, block, per_channel=False):
    """Squared difference of the masked region's local texture amplitude (RMS of high_pass(·, k) over `block`-pixel
    blocks, masked pixels only) between `out` and `photo`, weighted by each block's masked share, per masked pixel:
    pulls how much texture the output has toward the photo's without asking for the photo's texture itself (which no
    sampler can place). per_channel: each of Y, Cb, Cr against the photo's own (the RGB mean lets colour noise stand
    in for the photo's luma texture: docs/quality.md, "The texture's amount asked for"); otherwise the RGB channels'
    mean energy. out, photo: [N, 3, H, W]; mask [N, 1, H, W] → scalar."""
    share = F.avg_pool2d(mask, block)

    def amplitude(x):
        if per_channel:
            energy = F.avg_pool2d(mask * high_pass(to_ycbcr(x), k).pow(2), block)
        else:
            energy = F.avg_pool2d(mask * high_pass(x, k).pow(2).mean(1, keepdim=True), block)
        return (energy / share.clamp(min=1e-3) + 1e-6).sqrt()

    return (share * (amplitude(out) - amplitude(photo)) ** 2).mean() / mask.mean().clamp(min=1e-3)


def chroma_error(out, photo, mask, k):
    """Squared error of the masked region's colour texture (high_pass(·, k) of Cb and Cr) against the photo's, per
    masked pixel and channel. Photos hold little colour texture, so this mostly pulls the fill's toward none: where
    texture_energy_error asks for an amount, this holds its hue (the per-channel amount alone let the fills speckle in
    colours the place does not have: docs/quality.md, "The per-channel term from the kept model"). out, photo:
    [N, 3, H, W]; mask [N, 1, H, W] → scalar."""
    e = mask * (high_pass(to_ycbcr(out)[:, 1:], k) - high_pass(to_ycbcr(photo)[:, 1:], k))
    return (e ** 2).mean() / mask.mean().clamp(min=1e-3)
